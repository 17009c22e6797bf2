"""Cache settings from the LiteLLM config, key overrides and per-request controls."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from gateway.cache.policy import CachePolicy, request_controls
from gateway.config import load_config
from gateway.errors import InvalidRequest

from devstack.stack import ROOT


def test_the_shipped_config_turns_on_the_semantic_cache() -> None:
    policy = CachePolicy.from_config(
        load_config(ROOT / "config" / "litellm_config.yaml").litellm_settings
    )
    assert policy.enabled and policy.semantic
    assert (policy.ttl, policy.namespace, policy.threshold) == (3600, "litellm:cache", 0.8)
    assert policy.call_types == {"chat", "text_completion", "embedding"}
    assert policy.embedding_model == "local/all-MiniLM-L6-v2"


def test_the_environment_override_and_plain_redis_type() -> None:
    settings = {
        "cache": True,
        "cache_params": {"type": "redis", "supported_call_types": ["acompletion"]},
    }
    policy = CachePolicy.from_config(settings, enabled_override=False)
    assert not policy.enabled and not policy.semantic and policy.call_types == {"chat"}


def test_a_keys_metadata_overrides_threshold_and_ttl() -> None:
    key = SimpleNamespace(metadata={"cache": {"similarity_threshold": 0.95, "ttl": 60}})
    policy = CachePolicy(enabled=True).for_key(key)
    assert (policy.threshold, policy.ttl, policy.enabled) == (0.95, 60, True)
    assert (
        not CachePolicy(enabled=True).for_key({"metadata": {"cache": {"enabled": False}}}).enabled
    )
    assert CachePolicy(enabled=True).for_key(None) == CachePolicy(enabled=True)


def test_the_cache_field_is_read_and_removed() -> None:
    params = {
        "model": "m",
        "cache": {"no-cache": True, "no-store": True, "ttl": 30, "s-maxage": 10},
    }
    controls = request_controls(params, {})
    assert "cache" not in params
    assert controls.no_cache and controls.no_store and controls.ttl == 30 and controls.max_age == 10


def test_cache_control_headers() -> None:
    controls = request_controls({}, {"cache-control": "no-cache, no-store"})
    assert controls.no_cache and controls.no_store and controls.asked
    assert not request_controls({}, {}).asked


@pytest.mark.parametrize(
    "field", ["yes", {"ttl": -1}, {"ttl": "60"}, {"ttl": True}, {"s-maxage": 10**9}]
)
def test_a_malformed_cache_field_is_a_400(field: object) -> None:
    with pytest.raises(InvalidRequest):
        request_controls({"cache": field}, {})
