"""A fresh machine with no provider keys: the gateway starts and says what is missing."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from devstack.stack import LocalStack
from tests.integration.conftest import MASTER_KEY
from tests.integration.stack import GatewayProcess

PROVIDER_VARS = ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GOOGLE_API_KEY", "GROQ_API_KEY")


@pytest.fixture(scope="module")
def keyless_gateway(
    stack: LocalStack, tmp_path_factory: Any, monkeypatch_module: pytest.MonkeyPatch
) -> Iterator[GatewayProcess]:
    for name in PROVIDER_VARS:
        monkeypatch_module.delenv(name, raising=False)
    env = {k: v for k, v in stack.env.items() if k not in PROVIDER_VARS}
    process = GatewayProcess(env, tmp_path_factory.mktemp("keyless") / "gateway.log").start()
    yield process
    process.stop()


@pytest.fixture(scope="module")
def monkeypatch_module() -> Iterator[pytest.MonkeyPatch]:
    with pytest.MonkeyPatch.context() as patch:
        yield patch


def test_readiness_reports_unconfigured_providers(keyless_gateway: GatewayProcess) -> None:
    body = httpx.get(timeout=60, url=keyless_gateway.url + "/health/readiness").json()
    assert body["status"] == "degraded"
    assert body["unconfigured_providers"] == ["anthropic", "gemini", "groq", "openai"]
    assert body["providers"]["groq"]["missing"] == ["GROQ_API_KEY"]


def test_call_to_unconfigured_provider_names_the_missing_variable(
    keyless_gateway: GatewayProcess,
) -> None:
    response = httpx.post(
        timeout=60,
        url=keyless_gateway.url + "/v1/chat/completions",
        json={"model": "claude-sonnet-4-5", "messages": [{"role": "user", "content": "hi"}]},
        headers={"Authorization": f"Bearer {MASTER_KEY}"},
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "provider_not_configured"
    assert "ANTHROPIC_API_KEY" in error["message"]
