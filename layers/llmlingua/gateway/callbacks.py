"""litellm callbacks named in the config, as LiteLLM proxy users write them.

    litellm_settings:
      callbacks: custom_callbacks.proxy_handler_instance      # a CustomLogger instance (or class)
      success_callback: ["langfuse_otel", "my_team.hooks.on_success"]
      failure_callback: ["my_team.hooks.on_failure"]

A name with a dot is `module.attribute`, imported from PYTHONPATH or the config file's folder
(as LiteLLM does); a class is instantiated with no arguments. A name without a dot is one of
litellm's built-in integrations and is passed to litellm as is. Registered when the litellm
Router is first built, so importing a team's module never slows down paths without litellm.
"""

from __future__ import annotations

import importlib
import inspect
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from gateway.config import ConfigError

SETTINGS_KEYS = ("callbacks", "success_callback", "failure_callback")


def resolve(name: str, search_dir: Path | None = None) -> Any:
    """A callback by name: a built-in integration's name, or the object at `module.attribute`."""
    name = name.strip()
    if "." not in name:
        return name
    module_name, _, attribute = name.rpartition(".")
    if search_dir is not None and str(search_dir) not in sys.path:
        sys.path.append(str(search_dir))
    try:
        target = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as error:
        raise ConfigError(
            f"litellm_settings callback {name!r} cannot be imported: {error}"
        ) from error
    return target() if inspect.isclass(target) else target


def resolve_settings(
    litellm_settings: Mapping[str, Any], search_dir: Path | None = None
) -> dict[str, list[Any]]:
    """`callbacks`, `success_callback`, `failure_callback` of the config, resolved."""
    resolved: dict[str, list[Any]] = {}
    for key in SETTINGS_KEYS:
        value = litellm_settings.get(key)
        if value in (None, "", []):
            continue
        names = [value] if isinstance(value, str) else list(value)
        if not all(isinstance(n, str) for n in names):
            raise ConfigError(f"litellm_settings.{key} must be a name or a list of names")
        resolved[key] = [resolve(n, search_dir) for n in names]
    return resolved


def register_callbacks(
    litellm: Any, litellm_settings: Mapping[str, Any], search_dir: Path | None = None
) -> dict[str, list[Any]]:
    """Set litellm.callbacks / success_callback / failure_callback from the config."""
    if search_dir is None:
        from gateway.settings import get_settings

        search_dir = Path(get_settings().gateway_config).resolve().parent
    resolved = resolve_settings(litellm_settings, search_dir)
    for key, callbacks in resolved.items():
        setattr(litellm, key, list(callbacks))
    return resolved
