"""The `compression:` config section, its overrides, the engine choice and offline tiktoken."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from gateway.compression.config import (
    CompressionConfigError,
    load_compression_config,
    parse_compression,
)
from gateway.compression.factory import build_engine
from gateway.compression.tiktoken_cache import CL100K_SHA256, seed_tiktoken_cache

from devstack.stack import ROOT

SHIPPED = ROOT / "config" / "litellm_config.yaml"


def test_shipped_config_has_the_issue_defaults() -> None:
    config = load_compression_config(SHIPPED)
    assert config.enabled and config.min_tokens == 500
    assert {n: p.rate for n, p in config.profiles.items()} == {"default": 0.5, "rag": 0.33}
    assert config.compressible_roles == {"system", "user", "tool"}
    assert "\n" in config.force_tokens


def test_environment_overrides_the_file(tmp_path: Path) -> None:
    config = load_compression_config(SHIPPED).with_env(
        {
            "llmlingua_model_dir": str(tmp_path),
            "compression_engine": "http",
            "compression_engine_url": "http://127.0.0.1:1",
            "compression_enabled": None,
        }
    )
    assert (config.model_dir, config.engine, config.engine_url) == (
        tmp_path,
        "http",
        "http://127.0.0.1:1",
    )
    assert config.enabled  # None keeps the file's value


@pytest.mark.parametrize(
    "raw",
    [
        {"profiles": {"rag": {"rate": 1.5}}},
        {"profiles": {"off": {"rate": 0.5}}},
        {"default_profile": "nope"},
        {"min_tokens": -1},
        {"engine": {"kind": "gpu"}},
    ],
)
def test_malformed_sections_fail_at_start_up(raw: dict) -> None:
    with pytest.raises(CompressionConfigError):
        parse_compression(raw)


def test_no_model_means_disabled_with_the_reason() -> None:
    engine, status = build_engine(parse_compression({}))
    assert engine is None
    assert status.as_dict() == {"enabled": False, "engine": "inprocess", "reason": "no_model"}


def test_model_present_but_llmlingua_not_installed_in_this_venv(tmp_path: Path) -> None:
    model = tmp_path / "x-bert-base-multilingual-cased"
    model.mkdir()
    (model / "config.json").write_text("{}")
    engine, status = build_engine(parse_compression({"model_dir": str(model)}))
    if status.enabled:  # a venv with torch + llmlingua: the in-process adapter is chosen
        assert engine is not None and engine.name == "inprocess"
    else:
        assert status.reason == "llmlingua_not_installed"


def test_a_model_directory_llmlingua_cannot_handle_is_reported(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text("{}")
    _, status = build_engine(parse_compression({"model_dir": str(tmp_path)}))
    assert status.reason == "unsupported_model_name"


def test_remote_engines_are_chosen_by_url_or_function_name() -> None:
    http, status = build_engine(parse_compression({"engine": {"url": "http://127.0.0.1:9"}}))
    assert http is not None and (http.name, status.enabled) == ("http", True)
    lam, status = build_engine(parse_compression({"engine": {"function_name": "ml"}}))
    assert lam is not None and (lam.name, status.target) == ("lambda", "ml")
    none, status = build_engine(parse_compression({"enabled": False}))
    assert none is None and status.reason == "disabled_in_config"


def test_tiktoken_cl100k_loads_from_the_seeded_cache_without_network(tmp_path: Path) -> None:
    # Given an empty cache directory, seeded from a package that ships cl100k
    env = {**os.environ, "TIKTOKEN_CACHE_DIR": str(tmp_path)}
    os.environ["TIKTOKEN_CACHE_DIR"], saved = str(tmp_path), os.environ.get("TIKTOKEN_CACHE_DIR")
    try:
        path = seed_tiktoken_cache()
    finally:
        if saved is None:
            del os.environ["TIKTOKEN_CACHE_DIR"]
        else:
            os.environ["TIKTOKEN_CACHE_DIR"] = saved
    assert path.parent == tmp_path
    # When a fresh process asks for cl100k with every proxy pointing at a closed port
    env.update(HTTPS_PROXY="http://127.0.0.1:9", HTTP_PROXY="http://127.0.0.1:9", NO_PROXY="")
    code = "import tiktoken; print(len(tiktoken.get_encoding('cl100k_base').encode('hello world')))"
    out = subprocess.run(  # noqa: S603 - this interpreter, fixed code
        [sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    # Then it loaded from the cache
    assert out.stdout.strip() == "2"
    assert CL100K_SHA256.startswith("2239")
