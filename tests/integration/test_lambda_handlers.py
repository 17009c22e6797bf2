"""The Lambda path itself: API Gateway event JSON in, Mangum + Powertools, response out."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from devstack.stack import LocalStack
from tests.integration.conftest import MASTER_KEY

EVENTS = Path(__file__).resolve().parents[1] / "events"


@dataclass
class LambdaContext:
    function_name: str = "gateway-completion"
    memory_limit_in_mb: int = 1024
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:gateway-completion"
    aws_request_id: str = "5f1c3e1a-0000-4000-8000-000000000001"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


def load_event(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / name).read_text())


@pytest.fixture
def handlers(stack: LocalStack, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Both handlers, configured like a deployed function pointed at the fake providers."""
    from completion_api import app as completion_app
    from completion_api import deps
    from gateway.clients import clear_clients
    from gateway.keys.factory import clear_factories
    from gateway.settings import get_settings
    from keys_api import app as keys_app

    for name, value in {**stack.env, "LITELLM_MASTER_KEY": MASTER_KEY}.items():
        monkeypatch.setenv(name, value)
    caches = (get_settings, deps.model_catalog, deps.completion_service)
    for cached in caches:
        cached.cache_clear()
    clear_clients()  # the keys issue's cached clients and adapters
    clear_factories()
    yield completion_app.handler, keys_app.handler
    for cached in caches:
        cached.cache_clear()
    clear_clients()
    clear_factories()


def test_chat_completion_event(handlers: Any) -> None:
    completion, _ = handlers
    response = completion(load_event("chat_completions.json"), LambdaContext())
    assert response["statusCode"] == 200
    body = json.loads(response["body"])
    assert "hello from lambda" in body["choices"][0]["message"]["content"]
    assert body["object"] == "chat.completion"


def test_streaming_event_returns_the_whole_sse_stream(handlers: Any) -> None:
    completion, _ = handlers
    response = completion(load_event("chat_completions_stream.json"), LambdaContext())
    assert response["statusCode"] == 200
    assert response["headers"]["content-type"].startswith("text/event-stream")
    events = [line for line in response["body"].split("\n\n") if line]
    assert events[-1] == "data: [DONE]"
    text = "".join(
        json.loads(e.removeprefix("data: "))["choices"][0]["delta"].get("content") or ""
        for e in events[:-1]
        if json.loads(e.removeprefix("data: "))["choices"]
    )
    assert "stream from lambda" in text


def test_missing_key_event_is_401_envelope(handlers: Any) -> None:
    completion, _ = handlers
    response = completion(load_event("chat_completions_no_key.json"), LambdaContext())
    assert response["statusCode"] == 401
    assert json.loads(response["body"])["error"]["type"] == "authentication_error"


def test_models_and_health_events(handlers: Any) -> None:
    completion, _ = handlers
    models = completion(load_event("models.json"), LambdaContext())
    assert "gpt-4o" in {m["id"] for m in json.loads(models["body"])["data"]}
    alive = completion(load_event("health_liveliness.json"), LambdaContext())
    assert alive["statusCode"] == 200


def test_keys_function_event_is_routed_and_authenticated(handlers: Any) -> None:
    _, keys = handlers
    response = keys(load_event("key_generate.json"), LambdaContext())
    assert response["statusCode"] == 200
    body = json.loads(response["body"])
    assert body["key"].startswith("sk-") and body["key_alias"] == "team-a"


def test_an_invocation_after_asyncio_run_still_has_an_event_loop(handlers: Any) -> None:
    # Given something in the instance ran asyncio.run() (it leaves no current event loop)
    asyncio.run(asyncio.sleep(0))
    # When the next invocation arrives, Then it is served
    completion, _ = handlers
    assert completion(load_event("health_liveliness.json"), LambdaContext())["statusCode"] == 200
