"""Redis (Valkey) hung, stopped and restarted mid-run, under a gateway process of its own: the
cache, limits and metrics fail open as documented (docs/reliability.md), no request waits past
the configured timeouts, and service recovers by itself once Redis is back."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from devstack.stack import LocalStack
from devstack.valkey import LocalValkey
from tests.integration.conftest import MASTER_KEY
from tests.integration.stack import GatewayProcess, write_test_config

ADMIN = {"Authorization": f"Bearer {MASTER_KEY}"}
# Worst case per request with Redis hung: limits (2 s timeout, 1 retry), cache lookup and store
# (0.1 s each), metrics (0.25 s); generous bound for a loaded 2-core machine.
BOUND_S = 15.0


@pytest.fixture(scope="module")
def valkey() -> Iterator[LocalValkey]:
    with LocalValkey(with_search=False) as server:
        yield server


@pytest.fixture(scope="module")
def gw(stack: LocalStack, valkey: LocalValkey, tmp_path_factory: Any) -> Iterator[GatewayProcess]:
    workdir = tmp_path_factory.mktemp("redis-faults")
    env = {
        **stack.env,
        "REDIS_URL": valkey.url,
        "GATEWAY_CONFIG": str(write_test_config(workdir / "c.yaml", [], cache=True)),
        "CACHE_BREAKER_SECONDS": "1",
    }
    process = GatewayProcess(env, workdir / "gateway.log").start()
    yield process
    process.stop()


def _chat(gw: GatewayProcess, key: str, text: str) -> tuple[httpx.Response, float]:
    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": text}]}
    started = time.monotonic()
    response = httpx.post(
        gw.url + "/v1/chat/completions",
        json=body,
        headers={"Authorization": f"Bearer {key}"},
        timeout=60,
    )
    return response, time.monotonic() - started


def _until_cached(gw: GatewayProcess, key: str, text: str, timeout: float = 30.0) -> str:
    """Repeat one prompt until the cache answers it again (recovery, no restart of anything)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        response, _ = _chat(gw, key, text)
        assert response.status_code == 200
        if response.headers.get("x-cache-status") == "HIT":
            return "HIT"
        time.sleep(0.2)
    raise AssertionError("the cache did not recover")


def test_hung_stopped_and_restarted_redis(
    gw: GatewayProcess, valkey: LocalValkey, stack: LocalStack
) -> None:
    made = httpx.post(
        gw.url + "/key/generate",
        json={"team_id": "redis-faults", "rpm_limit": 1000, "tpm_limit": 10_000_000},
        headers=ADMIN,
        timeout=30,
    ).json()
    key = made["key"]
    served: list[int] = []
    assert _until_cached(gw, key, "warm prompt") == "HIT"

    # 1. Hung (SIGSTOP): every request is still served, within the bound, cache bypassed
    valkey.pause()
    try:
        for n in range(4):
            response, took = _chat(gw, key, f"while hung {n}")
            served.append(response.status_code)
            assert response.status_code == 200, response.text
            assert took < BOUND_S, took
            assert response.headers.get("x-cache-status") in ("BYPASS", None)
    finally:
        valkey.resume()
    assert _until_cached(gw, key, "warm prompt") == "HIT"

    # 2. Stopped (connection refused): served without limits, cache or metrics
    port = valkey.port
    valkey.stop()
    for n in range(4):
        response, took = _chat(gw, key, f"while down {n}")
        served.append(response.status_code)
        assert response.status_code == 200 and took < BOUND_S, (response.text, took)
    # 3. Restarted empty on the same port: the same processes reconnect by themselves
    valkey.start(port=port)
    assert _until_cached(gw, key, "after restart") == "HIT"
    limited = httpx.post(
        gw.url + "/key/generate", json={"rpm_limit": 2}, headers=ADMIN, timeout=30
    ).json()["key"]
    statuses = [_chat(gw, limited, f"limit {n}")[0].status_code for n in range(3)]
    assert statuses == [200, 200, 429]  # the limits are enforced again
    assert all(status == 200 for status in served)
    logs = gw.logs()
    assert "Traceback" not in logs or "unhandled error" not in logs
