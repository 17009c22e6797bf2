"""The OpenAI-wire pass-through (gateway/passthrough) through ProviderRouter, against fake OpenAI
and Groq servers speaking the real wire protocol over HTTP."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from gateway.config import GatewayConfig, parse_config
from gateway.errors import (
    GatewayError,
    UpstreamAuthenticationFailed,
    UpstreamError,
    UpstreamRateLimited,
    UpstreamRejected,
    UpstreamTimeout,
)
from gateway.passthrough import passthrough_enabled
from gateway.passthrough.targets import build_targets
from gateway.providers import ProviderResult, ProviderRouter

from devstack.fake_providers import FakeProviderServer
from devstack.stack import ROOT
from tests.integration.stack import PYTHONPATH

KEY = "sk-deployment-key-0123456789"
TENANT_KEY = "sk-tenant-own-key-9876543210"
MESSAGES = [{"role": "user", "content": "hello wire"}]


@pytest.fixture(scope="module")
def fakes() -> Iterator[tuple[FakeProviderServer, FakeProviderServer]]:
    with FakeProviderServer("wire-a") as a, FakeProviderServer("wire-b") as b:
        yield a, b


@pytest.fixture(autouse=True)
def _reset(fakes: tuple[FakeProviderServer, FakeProviderServer]) -> Iterator[None]:
    yield
    for fake in fakes:
        fake.reset()


def _config(fakes: Any, **general: Any) -> GatewayConfig:
    a, b = fakes

    def entry(name: str, model: str, base: str, **extra: Any) -> dict[str, Any]:
        params = {"model": model, "api_key": "os.environ/WIRE_KEY", "api_base": base, **extra}
        return {"model_name": name, "litellm_params": params, "model_info": {}}

    model_list = [
        entry("chat", "openai/gpt-4o-mini", a.url + "/v1"),
        entry("groq-chat", "groq/llama-3.3-70b-versatile", a.url + "/openai/v1"),
        entry("instruct", "text-completion-openai/gpt-3.5-turbo-instruct", a.url + "/v1"),
        entry("embed", "openai/text-embedding-3-small", a.url + "/v1"),
        entry("pair", "openai/gpt-4o-mini", a.url + "/v1"),
        entry("pair", "openai/gpt-4o-mini", b.url + "/v1"),
        entry("slow", "openai/gpt-4o-mini", a.url + "/v1", timeout=0.5),
        entry("claude", "anthropic/claude-3-5-haiku-20241022", a.url),
        entry("keyless", "openai/gpt-4o-mini", a.url + "/v1", api_key=None),
    ]
    model_list[3]["model_info"] = {"mode": "embedding"}
    model_list[2]["model_info"] = {"mode": "completion"}
    return parse_config(
        {
            "model_list": model_list,
            "router_settings": {"num_retries": 2, "retry_after": 0},
            "general_settings": general,
        }
    )


@pytest.fixture
def router(fakes: Any) -> ProviderRouter:
    return ProviderRouter(_config(fakes), {"WIRE_KEY": KEY})


def _chat(router: ProviderRouter, model: str = "chat", **params: Any) -> ProviderResult:
    return asyncio.run(router.chat({"model": model, "messages": MESSAGES, **params}))


def _stream(router: ProviderRouter, model: str = "chat", **params: Any) -> list[dict[str, Any]]:
    async def collect() -> list[dict[str, Any]]:
        result = await router.chat({"model": model, "messages": MESSAGES, "stream": True, **params})
        return [chunk async for chunk in router.stream_chunks(result.body)]

    return asyncio.run(collect())


def _sent(fake: FakeProviderServer) -> dict[str, Any]:
    return fake.calls()["calls"][-1]


def test_chat_goes_straight_to_the_deployment_with_its_model_and_key(
    router: ProviderRouter, fakes: Any
) -> None:
    result = _chat(router, temperature=0.2)
    assert "hello wire" in result.body["choices"][0]["message"]["content"]
    assert result.body["usage"]["prompt_tokens"] > 0
    sent = _sent(fakes[0])
    assert sent["path"] == "/v1/chat/completions"
    assert sent["body"]["model"] == "gpt-4o-mini"  # the litellm prefix is not sent
    assert sent["body"]["temperature"] == 0.2
    assert sent["headers_seen"]["authorization_present"]
    assert result.headers["x-litellm-attempted-retries"] == "0"
    assert result.headers["x-litellm-model-id"]
    assert float(result.headers["x-litellm-response-cost"]) > 0


def test_litellm_only_fields_never_reach_the_provider(router: ProviderRouter, fakes: Any) -> None:
    extras: dict[str, Any] = {"litellm_call_id": "c-1", "metadata": {"user_api_key_alias": "t"}}
    _chat(router, **extras)
    assert not set(_sent(fakes[0])["body"]) & set(extras)


def test_groq_chat_is_served_on_its_openai_path(router: ProviderRouter, fakes: Any) -> None:
    result = _chat(router, "groq-chat")
    assert "] groq llama-3.3-70b-versatile" in result.body["choices"][0]["message"]["content"]
    assert _sent(fakes[0])["path"] == "/openai/v1/chat/completions"
    assert _sent(fakes[0])["body"]["model"] == "llama-3.3-70b-versatile"


def test_a_stream_yields_chunk_dicts_and_its_usage(router: ProviderRouter) -> None:
    chunks = _stream(router, stream_options={"include_usage": True})
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])
    assert "hello wire" in text
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["completion_tokens"] > 0


def test_a_stream_without_usage_asked_has_none(router: ProviderRouter) -> None:
    chunks = _stream(router)
    assert chunks and not any("usage" in c for c in chunks)


def test_text_completion_and_embeddings(router: ProviderRouter, fakes: Any) -> None:
    text = asyncio.run(router.text_completion({"model": "instruct", "prompt": "say hi"}))
    assert "say hi" in text.body["choices"][0]["text"]
    assert _sent(fakes[0])["path"] == "/v1/completions"
    vectors = asyncio.run(router.embedding({"model": "embed", "input": ["a", "b"]}))
    assert len(vectors.body["data"]) == 2
    assert _sent(fakes[0])["path"] == "/v1/embeddings"


def test_429_and_500_are_retried_then_succeed(router: ProviderRouter, fakes: Any) -> None:
    fakes[0].inject_fault(status=429, times=1, retry_after=0)
    fakes[0].inject_fault(status=500, times=1)
    result = _chat(router)
    assert fakes[0].calls()["count"] == 3
    assert result.headers["x-litellm-attempted-retries"] == "2"


def test_a_persistent_429_is_a_rate_limit_with_retry_after(
    router: ProviderRouter, fakes: Any
) -> None:
    fakes[0].inject_fault(status=429, times=-1, retry_after=0)
    with pytest.raises(UpstreamRateLimited) as caught:
        _chat(router)
    assert fakes[0].calls()["count"] == 3  # the first try and num_retries=2
    assert caught.value.headers["Retry-After"] == "0"


@pytest.mark.parametrize(
    ("status", "expected"), [(400, UpstreamRejected), (401, UpstreamAuthenticationFailed)]
)
def test_a_refusal_is_not_retried_and_keeps_the_provider_text_without_keys(
    router: ProviderRouter, fakes: Any, status: int, expected: type[GatewayError]
) -> None:
    body = {"error": {"message": f"Incorrect API key provided: {KEY}", "type": "x"}}
    fakes[0].inject_fault(status=status, times=-1, body=body)
    with pytest.raises(expected) as caught:
        _chat(router)
    assert fakes[0].calls()["count"] == 1
    assert "Incorrect API key provided" in caught.value.message
    assert KEY not in caught.value.message


def test_a_timeout_is_a_504(router: ProviderRouter, fakes: Any) -> None:
    fakes[0].inject_fault(mode="hang", delay_s=3, times=-1)
    with pytest.raises(UpstreamTimeout):
        _chat(router, "slow")


def test_a_malformed_body_is_a_502(router: ProviderRouter, fakes: Any) -> None:
    fakes[0].inject_fault(mode="malformed", times=-1)
    with pytest.raises(UpstreamError) as caught:
        _chat(router)
    assert type(caught.value) is UpstreamError


@pytest.mark.parametrize("mode", ["cut_stream", "malformed"])
def test_a_broken_stream_raises_an_upstream_error(
    router: ProviderRouter, fakes: Any, mode: str
) -> None:
    fakes[0].inject_fault(mode=mode, times=-1)
    with pytest.raises(UpstreamError):
        _stream(router)


def test_simple_shuffle_uses_both_deployments(router: ProviderRouter, fakes: Any) -> None:
    for _ in range(24):
        _chat(router, "pair")
    first, second = (fake.calls()["count"] for fake in fakes)
    assert first + second == 24 and first >= 2 and second >= 2  # P(miss) ~ 2e-6


def test_a_tenant_key_is_sent_as_the_bearer_token(router: ProviderRouter, fakes: Any) -> None:
    # Given a deployment with no key of its own: the fake refuses a call without one
    with pytest.raises(UpstreamAuthenticationFailed):
        _chat(router, "keyless")
    # When a stage put the tenant's own provider key in the call, it authorises the call
    result = _chat(router, "keyless", api_key=TENANT_KEY)
    assert result.body["choices"]
    assert _sent(fakes[0])["headers_seen"]["authorization_present"]
    assert "api_key" not in _sent(fakes[0])["body"]


def test_which_deployments_the_pass_through_serves(fakes: Any) -> None:
    targets = build_targets(_config(fakes), {"WIRE_KEY": KEY})
    assert ("chat", "chat") in targets and ("chat", "groq-chat") in targets
    assert ("embedding", "embed") in targets and ("text_completion", "instruct") in targets
    assert ("chat", "claude") not in targets  # Anthropic stays on litellm
    assert ("text_completion", "chat") not in targets  # litellm turns that into a chat call
    assert len(targets[("chat", "pair")]) == 2


@pytest.mark.parametrize(
    "change",
    [
        {"general_settings": {"passthrough": False}},
        {"litellm_settings": {"callbacks": "team.hooks.logger"}},
        {"litellm_settings": {"success_callback": ["langfuse_otel"]}},
        {"router_settings": {"routing_strategy": "least-busy"}},
    ],
)
def test_the_pass_through_is_off_when_litellm_must_see_every_call(change: dict) -> None:
    raw = {"model_list": [{"model_name": "m", "litellm_params": {"model": "openai/gpt-4o"}}]}
    assert passthrough_enabled(parse_config(raw))
    assert not passthrough_enabled(parse_config({**raw, **change}))


def test_a_pass_through_call_never_imports_litellm(fakes: Any) -> None:
    probe = f"""
import asyncio, json, sys
from gateway.config import parse_config
from gateway.providers import ProviderRouter
config = parse_config({{"model_list": [{{"model_name": "m", "litellm_params": {{
    "model": "openai/gpt-4o-mini", "api_key": "sk-probe", "api_base": "{fakes[0].url}/v1"}}}}]}})
router = ProviderRouter(config, {{}})
router.prime()
messages = [{{"role": "user", "content": "x"}}]
result = asyncio.run(router.chat({{"model": "m", "messages": messages}}))
print(json.dumps({{"ok": bool(result.body["choices"]),
                  "litellm": [m for m in sys.modules if m.split(".")[0] == "litellm"]}}))
"""
    env = {**os.environ, "PYTHONPATH": PYTHONPATH}
    out = subprocess.run(  # noqa: S603 - our interpreter, fixed code
        [sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True,
        check=True, timeout=60,
    )  # fmt: skip
    assert json.loads(out.stdout.strip().splitlines()[-1]) == {"ok": True, "litellm": []}
