"""litellm_settings.callbacks / success_callback / failure_callback resolve as LiteLLM's do."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from gateway.callbacks import register_callbacks, resolve, resolve_settings
from gateway.config import ConfigError

TEAM_MODULE = """
class TeamLogger:
    instances = 0

    def __init__(self):
        TeamLogger.instances += 1

team_logger = TeamLogger()

def on_success(kwargs, response, start, end):
    return None
"""


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    (tmp_path / "team_hooks_for_test.py").write_text(TEAM_MODULE)
    return tmp_path


def test_builtin_integration_names_pass_through_as_strings() -> None:
    assert resolve("langfuse_otel") == "langfuse_otel"


def test_module_path_beside_the_config_resolves_to_the_instance(config_dir: Path) -> None:
    logger = resolve("team_hooks_for_test.team_logger", config_dir)
    assert type(logger).__name__ == "TeamLogger"


def test_a_class_is_instantiated(config_dir: Path) -> None:
    logger = resolve("team_hooks_for_test.TeamLogger", config_dir)
    assert type(logger).__name__ == "TeamLogger"


def test_settings_lists_and_single_names_register_on_litellm(config_dir: Path) -> None:
    litellm = SimpleNamespace(callbacks=[], success_callback=[], failure_callback=[])
    settings = {
        "callbacks": "team_hooks_for_test.team_logger",
        "success_callback": ["langfuse_otel", "team_hooks_for_test.on_success"],
    }
    register_callbacks(litellm, settings, config_dir)
    assert type(litellm.callbacks[0]).__name__ == "TeamLogger"
    assert litellm.success_callback[0] == "langfuse_otel"
    assert callable(litellm.success_callback[1])
    assert litellm.failure_callback == []


def test_an_unimportable_callback_is_a_config_error(config_dir: Path) -> None:
    with pytest.raises(ConfigError, match="no_such_module.handler"):
        resolve_settings({"callbacks": ["no_such_module.handler"]}, config_dir)
    with pytest.raises(ConfigError, match="missing_attribute"):
        resolve("team_hooks_for_test.missing_attribute", config_dir)


def test_a_non_string_callback_entry_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="success_callback"):
        resolve_settings({"success_callback": [{"not": "a name"}]})
