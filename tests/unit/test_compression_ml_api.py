"""The ML function's request handling without a model: validation, direct events, 503/501."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from ml_api.app import compress, create_app
from ml_api.handler import direct, handler

VALID = {"texts": ["some text"], "rate": 0.5, "force_tokens": ["\n"]}


@pytest.fixture(autouse=True)
def _no_model(monkeypatch: pytest.MonkeyPatch) -> None:
    from ml_api.engine import engine

    monkeypatch.delenv("LLMLINGUA_MODEL_DIR", raising=False)
    monkeypatch.delenv("EMBEDDING_MODEL_DIR", raising=False)
    engine.cache_clear()


@pytest.mark.parametrize(
    "body",
    [
        None,
        {"texts": "x", "rate": 0.5},
        {"texts": ["x"], "rate": 1.5},
        {"texts": ["x"], "rate": 0.5, "force_tokens": ["t"] * 200},
    ],
)
def test_malformed_compress_requests_are_400(body: Any) -> None:
    status, answer = compress(body)
    assert status == 400 and answer["error"]["type"] == "invalid_request_error"


def test_without_a_model_compress_answers_503() -> None:
    status, answer = compress(VALID)
    assert status == 503 and answer["error"]["type"] == "engine_unavailable"


def test_direct_lambda_events_are_dispatched_by_action() -> None:
    assert handler({"action": "compress", **VALID}, None)["status"] == 503
    assert direct({"action": "health"}) | {"status": 200} == direct({"action": "health"})
    assert direct({"action": "health"})["state"] == "no_model"
    assert direct({"action": "delete-everything"})["status"] == 400
    assert direct({"action": "embed", "texts": ["x"]})["status"] == 501


def test_http_routes_serve_the_same_contract() -> None:
    client = TestClient(create_app())
    assert client.get("/health").json()["state"] == "no_model"
    assert client.post("/compress", json=VALID).status_code == 503
    invoked = client.post("/2015-03-31/functions/ml/invocations", json={"action": "health"})
    assert invoked.json()["status"] == 200
