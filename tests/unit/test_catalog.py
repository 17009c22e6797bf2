"""The model catalog: model lookup, provider configuration state, /v1/models shape."""

from __future__ import annotations

import pytest
from gateway.catalog import ModelCatalog
from gateway.config import ConfigError, parse_config
from gateway.errors import ModelNotFound, ProviderNotConfigured

RAW = {
    "model_list": [
        {
            "model_name": "gpt-4o",
            "litellm_params": {"model": "openai/gpt-4o", "api_key": "os.environ/OPENAI_API_KEY"},
        },
        {
            "model_name": "gpt-4o",
            "litellm_params": {"model": "openai/gpt-4o", "api_key": "os.environ/OPENAI_API_KEY_2"},
        },
        {
            "model_name": "claude",
            "litellm_params": {
                "model": "anthropic/claude-x",
                "api_key": "os.environ/ANTHROPIC_API_KEY",
            },
        },
        {
            "model_name": "embed",
            "litellm_params": {
                "model": "openai/text-embedding-3-small",
                "api_key": "os.environ/OPENAI_API_KEY",
            },
            "model_info": {"mode": "embedding"},
        },
    ],
    "router_settings": {"routing_strategy": "simple-shuffle"},
}


def catalog(environ: dict[str, str]) -> ModelCatalog:
    return ModelCatalog(parse_config(RAW), environ)


def test_resolve_returns_only_configured_deployments() -> None:
    deployments = catalog({"OPENAI_API_KEY": "k"}).resolve("gpt-4o")
    assert [d.litellm_params["api_key"] for d in deployments] == ["os.environ/OPENAI_API_KEY"]


def test_unknown_model_names_the_available_ones() -> None:
    with pytest.raises(ModelNotFound) as caught:
        catalog({}).resolve("gpt-9")
    assert "gpt-4o, claude, embed" in caught.value.message
    assert caught.value.param == "model"


def test_unconfigured_provider_names_the_missing_variable() -> None:
    with pytest.raises(ProviderNotConfigured) as caught:
        catalog({"OPENAI_API_KEY": "k"}).resolve("claude")
    assert "ANTHROPIC_API_KEY" in caught.value.message
    assert caught.value.status_code == 400


def test_endpoint_mode_is_checked() -> None:
    with pytest.raises(ModelNotFound) as caught:
        catalog({"OPENAI_API_KEY": "k"}).resolve("embed", mode="chat")
    assert caught.value.code == "model_not_supported"


def test_provider_status_lists_missing_variables() -> None:
    status = catalog({"OPENAI_API_KEY": "k"}).provider_status()
    assert status["openai"] == {"configured": False, "missing": ["OPENAI_API_KEY_2"]}
    assert status["anthropic"] == {"configured": False, "missing": ["ANTHROPIC_API_KEY"]}


def test_model_list_has_each_name_once_with_its_provider() -> None:
    listed = catalog({}).openai_model_list()["data"]
    assert [(m["id"], m["owned_by"]) for m in listed] == [
        ("gpt-4o", "openai"),
        ("claude", "anthropic"),
        ("embed", "openai"),
    ]


@pytest.mark.parametrize("raw", [{}, {"model_list": []}, {"model_list": [{"model_name": "x"}]}])
def test_malformed_config_is_refused(raw: dict) -> None:
    with pytest.raises(ConfigError):
        parse_config(raw)
