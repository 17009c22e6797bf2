"""The real litellm talks to each fake provider over its real wire protocol."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import struct
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import openai
import pytest

for _var, _value in {
    "LITELLM_LOCAL_MODEL_COST_MAP": "True",
    "LITELLM_OFFLINE_MODE": "true",
    "HF_HUB_OFFLINE": "1",
}.items():
    os.environ.setdefault(_var, _value)

import litellm  # noqa: E402

from devstack.fake_providers import FakeProviderServer  # noqa: E402
from devstack.fake_providers.text import echo, estimate_tokens  # noqa: E402

KEY = "sk-fake-secret-123"
PROMPT = "Say something about the sea"
MESSAGES = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": PROMPT}]
PROMPT_TOKENS = estimate_tokens(f"Be brief. {PROMPT}")


@dataclass(frozen=True)
class Target:
    """A litellm model string and the api_base suffix its fake lives under."""

    model: str
    suffix: str

    @property
    def provider(self) -> str:
        return self.model.split("/", 1)[0]

    @property
    def name(self) -> str:
        return self.model.split("/", 1)[1]

    def base(self, server: FakeProviderServer) -> str:
        return server.url + self.suffix

    def expected(self, server: FakeProviderServer) -> str:
        return echo(server.name, self.provider, self.name, PROMPT)


TARGETS = [
    Target("openai/gpt-4o-mini", "/v1"),
    Target("anthropic/claude-sonnet-4-5-20250929", ""),
    Target("gemini/gemini-2.5-flash", "/v1beta"),
    Target("groq/llama-3.3-70b-versatile", "/openai/v1"),
]
IDS = [t.provider for t in TARGETS]


@pytest.fixture(scope="module")
def server() -> Iterator[FakeProviderServer]:
    with FakeProviderServer("alpha") as srv:
        yield srv


@pytest.fixture(autouse=True)
def _clean(server: FakeProviderServer) -> None:
    server.reset()


def _complete(target: Target, server: FakeProviderServer, **kwargs: Any) -> Any:
    return litellm.completion(
        model=target.model,
        messages=MESSAGES,
        api_base=target.base(server),
        api_key=KEY,
        max_retries=0,
        **kwargs,
    )


@pytest.mark.parametrize("target", TARGETS, ids=IDS)
def test_completion_non_stream(server: FakeProviderServer, target: Target) -> None:
    resp = _complete(target, server)
    text = resp.choices[0].message.content
    assert text == target.expected(server)
    assert resp.usage.prompt_tokens == PROMPT_TOKENS
    assert resp.usage.completion_tokens == estimate_tokens(text)


@pytest.mark.parametrize("target", TARGETS, ids=IDS)
def test_completion_stream(server: FakeProviderServer, target: Target) -> None:
    chunks = list(_complete(target, server, stream=True, stream_options={"include_usage": True}))
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    usages = [c.usage for c in chunks if getattr(c, "usage", None)]
    assert len(chunks) > 2
    assert text == target.expected(server)
    assert (usages[-1].prompt_tokens, usages[-1].completion_tokens) == (
        PROMPT_TOKENS,
        estimate_tokens(text),
    )
    call = server.calls()["calls"][-1]
    assert call["stream"] is True and call["model"] == target.name


def test_acompletion_stream_openai(server: FakeProviderServer) -> None:
    async def run() -> str:
        stream = await litellm.acompletion(
            model="openai/gpt-4o-mini",
            messages=MESSAGES,
            api_base=server.url + "/v1",
            api_key=KEY,
            stream=True,
        )
        return "".join([c.choices[0].delta.content or "" async for c in stream])

    assert asyncio.run(run()) == TARGETS[0].expected(server)


def test_embeddings_deterministic(server: FakeProviderServer) -> None:
    def embed(inputs: list[str]) -> Any:
        return litellm.embedding(
            model="openai/text-embedding-3-small",
            input=inputs,
            api_base=server.url + "/v1",
            api_key=KEY,
        )

    first, again = embed(["alpha", "beta"]), embed(["alpha"])
    vectors = [d["embedding"] for d in first.data]
    assert len(vectors) == 2 and all(len(v) == 16 for v in vectors)
    assert vectors[0] == again.data[0]["embedding"] and vectors[0] != vectors[1]
    assert abs(sum(x * x for x in vectors[0]) - 1.0) < 1e-3
    assert first.usage.prompt_tokens == estimate_tokens("alpha") + estimate_tokens("beta")


def test_embeddings_base64(server: FakeProviderServer) -> None:
    resp = httpx.post(
        f"{server.url}/v1/embeddings",
        headers={"Authorization": f"Bearer {KEY}"},
        json={"model": "m", "input": "alpha", "encoding_format": "base64"},
    )
    raw = base64.b64decode(resp.json()["data"][0]["embedding"])
    floats = struct.unpack("<16f", raw)
    plain = litellm.embedding(
        model="openai/m", input="alpha", api_base=server.url + "/v1", api_key=KEY
    ).data[0]["embedding"]
    assert floats == pytest.approx(plain, abs=1e-6)


@pytest.mark.parametrize("stream", [False, True])
def test_text_completion(server: FakeProviderServer, stream: bool) -> None:
    resp = litellm.text_completion(
        model="openai/gpt-3.5-turbo-instruct",
        prompt=PROMPT,
        api_base=server.url + "/v1",
        api_key=KEY,
        stream=stream,
    )
    if stream:
        text = "".join(c.choices[0].text or "" for c in resp if c.choices)
    else:
        text, usage = resp.choices[0].text, resp.usage
        assert usage.prompt_tokens == estimate_tokens(PROMPT)
    assert text == echo("alpha", "openai", "gpt-3.5-turbo-instruct", PROMPT)
    assert server.calls()["calls"][-1]["path"] == "/v1/completions"


@pytest.mark.parametrize("target", TARGETS, ids=IDS)
def test_fault_500_raises_then_recovers(server: FakeProviderServer, target: Target) -> None:
    httpx.post(f"{server.url}/_fake/faults", json={"status": 500, "times": 1}).raise_for_status()
    with pytest.raises(litellm.InternalServerError):
        _complete(target, server)
    assert _complete(target, server).choices[0].message.content == target.expected(server)
    assert server.calls()["count"] == 2


def test_fault_429_has_retry_after(server: FakeProviderServer) -> None:
    server.inject_fault(status=429, times=-1, retry_after=7)
    with pytest.raises(litellm.RateLimitError):
        _complete(TARGETS[0], server)
    resp = httpx.post(f"{server.url}/v1/messages", headers={"x-api-key": KEY}, json={})
    assert resp.status_code == 429 and resp.headers["retry-after"] == "7"
    assert resp.json()["error"]["type"] == "rate_limit_error"
    assert server.state.faults()[0]["times"] == -1


@pytest.mark.parametrize("mode", ["malformed", "cut_stream"])
def test_broken_responses_raise(server: FakeProviderServer, mode: str) -> None:
    server.inject_fault(mode=mode, times=2)
    with pytest.raises(openai.APIError):  # litellm's exceptions subclass openai's
        _complete(TARGETS[0], server)
    with pytest.raises(openai.APIError):
        list(_complete(TARGETS[1], server, stream=mode == "cut_stream"))


def test_hang_delays_then_answers(server: FakeProviderServer) -> None:
    server.inject_fault(mode="hang", delay_s=0.3, times=2)
    with pytest.raises(litellm.Timeout):
        _complete(TARGETS[0], server, timeout=0.1)
    started = time.monotonic()
    assert _complete(TARGETS[0], server).choices[0].message.content
    assert time.monotonic() - started >= 0.3


@pytest.mark.parametrize(
    ("path", "key_field"),
    [
        ("/v1/chat/completions", ("error", "code")),
        ("/openai/v1/chat/completions", ("error", "code")),
        ("/v1/messages", ("error", "type")),
        ("/v1beta/models/gemini-2.5-flash:generateContent", ("error", "status")),
    ],
)
def test_missing_key_is_401(
    server: FakeProviderServer, path: str, key_field: tuple[str, str]
) -> None:
    resp = httpx.post(server.url + path, json={"model": "m"})
    outer, inner = key_field
    assert resp.status_code == 401 and resp.json()[outer][inner]
    assert server.calls()["calls"][-1]["headers_seen"] == {"authorization_present": False}


def test_calls_recorded_without_secrets(server: FakeProviderServer) -> None:
    for target in TARGETS:
        _complete(target, server)
    log = httpx.get(f"{server.url}/_fake/calls").json()
    assert log["count"] == 4 and [c["model"] for c in log["calls"]] == [t.name for t in TARGETS]
    assert all(c["headers_seen"]["authorization_present"] for c in log["calls"])
    assert KEY not in json.dumps(log)
    httpx.post(f"{server.url}/_fake/reset").raise_for_status()
    assert httpx.get(f"{server.url}/_fake/calls").json() == {"count": 0, "calls": []}


def test_raw_stream_shapes(server: FakeProviderServer) -> None:
    auth = {"Authorization": f"Bearer {KEY}"}
    body = {"model": "llama", "messages": MESSAGES, "stream": True}
    groq = httpx.post(f"{server.url}/openai/v1/chat/completions", headers=auth, json=body).text
    frames = [json.loads(line[6:]) for line in groq.splitlines() if line.startswith("data: {")]
    assert groq.rstrip().endswith("data: [DONE]") and frames[0]["service_tier"] == "on_demand"
    assert frames[-1]["x_groq"]["usage"]["prompt_tokens"] == PROMPT_TOKENS
    claude = httpx.post(f"{server.url}/v1/messages", headers={"x-api-key": KEY}, json=body).text
    events = [line[7:] for line in claude.splitlines() if line.startswith("event: ")]
    assert events[:3] == ["message_start", "content_block_start", "ping"]
    assert events[-3:] == ["content_block_stop", "message_delta", "message_stop"]
    gem = httpx.post(
        f"{server.url}/v1beta/models/g:streamGenerateContent?key={KEY}",
        json={"contents": [{"role": "user", "parts": [{"text": PROMPT}]}]},
    ).json()
    assert isinstance(gem, list) and gem[-1]["candidates"][0]["finishReason"] == "STOP"


def test_control_validation_and_isolation(server: FakeProviderServer) -> None:
    bad = httpx.post(f"{server.url}/_fake/faults", json={"mode": "explode"})
    assert bad.status_code == 400
    server.inject_fault(status=503, times=-1)
    with FakeProviderServer("beta") as other:
        target = TARGETS[0]
        assert _complete(target, other).choices[0].message.content == target.expected(other)
        assert other.calls()["count"] == 1
    assert server.calls()["count"] == 0
