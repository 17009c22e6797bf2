"""The local stack for integration tests: real Valkey, moto server, fake providers over HTTP,
and the gateway in its own process, called with the official openai SDK."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import openai
import pytest

from devstack.fake_providers import FakeProviderServer
from devstack.stack import LocalStack
from tests.integration.stack import GatewayProcess, write_test_config

MASTER_KEY = "sk-test-master-key-0123456789"


@pytest.fixture(scope="session")
def stack() -> Iterator[LocalStack]:
    with LocalStack({"LITELLM_MASTER_KEY": MASTER_KEY}, demo=True) as local:
        yield local


@pytest.fixture(scope="session")
def extra_fakes() -> Iterator[dict[str, FakeProviderServer]]:
    servers = {name: FakeProviderServer(name) for name in ("openai-b", "flaky", "slow")}
    for server in servers.values():
        server.start()
    yield servers
    for server in servers.values():
        server.stop()


def _openai_deployment(name: str, server: FakeProviderServer, **params: Any) -> dict[str, Any]:
    litellm_params = {
        "model": "openai/gpt-4o-mini",
        "api_key": "os.environ/OPENAI_API_KEY",
        "api_base": server.url + "/v1",
        **params,
    }
    return {"model_name": name, "litellm_params": litellm_params}


@pytest.fixture(scope="session")
def gateway(
    stack: LocalStack, extra_fakes: dict[str, FakeProviderServer], tmp_path_factory: Any
) -> Iterator[GatewayProcess]:
    workdir = tmp_path_factory.mktemp("gateway")
    extras = [
        _openai_deployment("shuffle-model", stack.fakes["openai"]),
        _openai_deployment("shuffle-model", extra_fakes["openai-b"]),
        _openai_deployment("flaky-model", extra_fakes["flaky"]),
        _openai_deployment("slow-model", extra_fakes["slow"], timeout=1),
    ]
    config = write_test_config(workdir / "config.yaml", extras, retry_after=0)
    env = {**stack.env, "GATEWAY_CONFIG": str(config), "MAX_REQUEST_BYTES": "1048576"}
    process = GatewayProcess(env, workdir / "gateway.log").start()
    yield process
    process.stop()


@pytest.fixture(autouse=True)
def _reset_fakes(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if "stack" in request.fixturenames or "gateway" in request.fixturenames:
        local: LocalStack = request.getfixturevalue("stack")
        extras: dict[str, FakeProviderServer] = request.getfixturevalue("extra_fakes")
        for server in [*local.fakes.values(), *extras.values()]:
            server.reset()


@pytest.fixture
def client(gateway: GatewayProcess) -> openai.OpenAI:
    return openai.OpenAI(base_url=gateway.url + "/v1", api_key=MASTER_KEY, max_retries=0)
