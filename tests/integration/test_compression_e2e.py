"""Compression through the local stack: the real llmlingua code path in the engine server
(.venv-ml, tiny RANDOM model: plumbing only, no quality claim), reached over HTTP and through the
Lambda Invoke API (boto3 against the engine's emulation), and the stack without a model."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest
from gateway.compression.engine import EngineError
from gateway.compression.engine_http import HttpEngine
from gateway.compression.engine_lambda import LambdaEngine, lambda_client

from devstack.ports import free_port
from devstack.stack import LocalStack
from tests.integration.compression_engine import (
    EngineProcess,
    ensure_test_model,
    require_ml_venv,
)
from tests.integration.conftest import MASTER_KEY
from tests.integration.stack import GatewayProcess

PARAGRAPH = (
    "The steering committee met on Tuesday and reviewed the migration plan for the billing "
    "system in considerable detail, including the risks raised by the operations team. "
)
DOCUMENT = "\n\n".join([PARAGRAPH * 4] * 10)  # ~1,000 tokens of prose
FACTS = "The contract value is 1,250,000 EUR, signed on 2024-03-15 by ACME-42."
CODE = "```python\ntotal = sum(invoice.amount for invoice in batch)\n```"
QUESTION = "Based on the notes above, what is the contract value and who signed it?"
LONG_PROMPT = f"{DOCUMENT}\n\n{FACTS} {PARAGRAPH * 3}\n\n{CODE}\n\n{QUESTION}"


@pytest.fixture(scope="module")
def engine(tmp_path_factory: Any) -> Iterator[EngineProcess]:
    require_ml_venv()
    workdir = tmp_path_factory.mktemp("engine")
    process = EngineProcess(ensure_test_model(), workdir / "engine.log", workdir / "tiktoken")
    yield process.start()
    process.stop()


def _gateway(stack: LocalStack, tmp_path_factory: Any, name: str, **env: str) -> GatewayProcess:
    log = tmp_path_factory.mktemp(name) / "gateway.log"
    return GatewayProcess({**stack.env, **env}, log).start()


@pytest.fixture(scope="module")
def http_gateway(
    stack: LocalStack, engine: EngineProcess, tmp_path_factory: Any
) -> Iterator[GatewayProcess]:
    process = _gateway(stack, tmp_path_factory, "http-engine", COMPRESSION_ENGINE_URL=engine.url)
    yield process
    process.stop()


def _client(gateway: GatewayProcess) -> openai.OpenAI:
    return openai.OpenAI(base_url=gateway.url + "/v1", api_key=MASTER_KEY, max_retries=0)


def _ask(gateway: GatewayProcess, content: str, **extra: Any) -> Any:
    # The response cache (issue 4) runs before compression: bypass it so every call compresses.
    headers = {"Cache-Control": "no-cache, no-store", **extra.pop("extra_headers", {})}
    return _client(gateway).chat.completions.with_raw_response.create(
        model="gpt-4o",
        messages=[{"role": "user", "content": content}],
        extra_headers=headers,
        **extra,
    )


def _sent_to_provider(stack: LocalStack) -> str:
    calls = stack.fakes["openai"].calls()["calls"]
    assert len(calls) == 1
    return str(calls[0]["body"]["messages"][-1]["content"])


def test_health_reports_the_engine(http_gateway: GatewayProcess, engine: EngineProcess) -> None:
    body = httpx.get(http_gateway.url + "/health", timeout=30).json()
    assert body["compression"] == {"enabled": True, "engine": "http", "target": engine.url}


def test_long_prompt_reaches_the_provider_compressed_with_exact_parts_intact(
    http_gateway: GatewayProcess, stack: LocalStack
) -> None:
    raw = _ask(http_gateway, LONG_PROMPT)
    assert raw.parse().choices[0].message.content
    sent = _sent_to_provider(stack)
    assert len(sent) < 0.8 * len(LONG_PROMPT)
    assert sent.endswith(f"{CODE}\n\n{QUESTION}")  # code block and final question verbatim
    for exact in ("1,250,000", "2024-03-15", "ACME-42."):
        assert exact in sent  # numbers survive as written
    original = int(raw.headers["x-compression-original-tokens"])
    compressed = int(raw.headers["x-compression-compressed-tokens"])
    assert compressed < original and original > 900
    assert float(raw.headers["x-compression-ratio"]) == pytest.approx(compressed / original, 1e-2)
    assert raw.headers["x-compression-profile"] == "default"


def test_streaming_request_is_compressed_too(http_gateway: GatewayProcess) -> None:
    raw = _ask(
        http_gateway, LONG_PROMPT, stream=True, extra_headers={"x-compression-profile": "rag"}
    )
    assert raw.headers["x-compression-profile"] == "rag"
    assert "".join(c.choices[0].delta.content or "" for c in raw.parse() if c.choices)


def test_short_prompt_and_opt_out_pass_untouched(
    http_gateway: GatewayProcess, stack: LocalStack
) -> None:
    raw = _ask(http_gateway, LONG_PROMPT, extra_body={"compression": "off"})
    assert _sent_to_provider(stack) == LONG_PROMPT
    assert "x-compression-original-tokens" not in raw.headers


def test_unknown_profile_is_a_400(http_gateway: GatewayProcess) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        _ask(http_gateway, "hi", extra_headers={"x-compression-profile": "extreme"})
    body = caught.value.body
    assert isinstance(body, dict) and body["code"] == "invalid_compression_profile"


def test_lambda_adapter_invokes_the_ml_handler_through_the_lambda_api(
    engine: EngineProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    # boto3's real Invoke call, against the engine's emulation of the Lambda API: the same
    # direct event and handler code the ML function runs in AWS.
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "local")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "local")
    client = lambda_client("us-east-1", engine.url, 30.0)
    adapter = LambdaEngine("gateway-ml", client)
    texts = [PARAGRAPH * 4 + "Revenue was @@KEEP@@ in @@KEEP@@.", "Second text, short."]
    out = asyncio.run(adapter.compress(texts, 0.5, ["\n", "?", "@@KEEP@@"]))
    assert len(out) == 2 and len(out[0]) < len(texts[0])
    assert out[0].count("@@KEEP@@") == 2  # forced tokens survive the real model


def test_http_adapter_reports_a_dead_engine_as_engine_error() -> None:
    # The stage turns EngineError into fail-open (tests/unit/test_compression_service.py).
    closed = HttpEngine(f"http://127.0.0.1:{free_port()}", timeout_s=2)
    with pytest.raises(EngineError):
        asyncio.run(closed.compress(["text"], 0.5, []))


def test_stack_without_a_model_reports_disabled_and_passes_through(
    gateway: GatewayProcess, stack: LocalStack
) -> None:
    health = httpx.get(gateway.url + "/health", timeout=30).json()
    assert health["compression"] == {"enabled": False, "engine": "inprocess", "reason": "no_model"}
    raw = _ask(gateway, LONG_PROMPT, extra_body={"compression": "rag"})
    assert _sent_to_provider(stack) == LONG_PROMPT
    assert not any(name.startswith("x-compression") for name in raw.headers)
