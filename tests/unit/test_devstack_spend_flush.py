"""devstack's background spend flusher (the local SpendFlushFunction): persists queued spend
while it runs and stops cleanly on exit."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest
import redis
from gateway.spend import SpendEntry
from gateway.spend_outbox import DEFAULT_STREAM, encode

from devstack.spend_flush import BackgroundSpendFlusher
from devstack.valkey import LocalValkey
from tests.unit.keys_support import Tables

pytest_plugins = ["tests.unit.keys_support"]


def _entry(n: int) -> SpendEntry:
    return SpendEntry(
        key_hash="h" * 64,
        token_id="t" * 32,
        request_id=f"req-{n}",
        started_epoch=1_800_000_000.0 + n,
        ended_epoch=1_800_000_001.0 + n,
        model="gpt-4o-mini",
        provider="openai",
        call_type="chat",
        cost=Decimal("0.5"),
    )


def test_the_background_flusher_drains_the_stream_and_stops(
    gateway_env: Tables,
    valkey: redis.Redis,
    valkey_server: LocalValkey,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("REDIS_URL", valkey_server.url)
    with BackgroundSpendFlusher() as flusher:
        for n in range(3):
            valkey.xadd(DEFAULT_STREAM, encode(_entry(n), None))
        deadline = time.monotonic() + 30
        while len(gateway_env.spend_items()) < 3:  # persisted within about a second
            assert time.monotonic() < deadline, "queued spend was not flushed"
            time.sleep(0.05)
    assert not flusher._thread.is_alive()
    assert valkey.xlen(DEFAULT_STREAM) == 0
