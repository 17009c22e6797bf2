"""SpendFlushFunction's handler: drains the stream, stops before its timeout, reports backlog."""

from __future__ import annotations

from decimal import Decimal

import pytest
import redis
from gateway.spend import SpendEntry
from gateway.spend_outbox import DEFAULT_STREAM, encode

from devstack.valkey import LocalValkey
from tests.unit.keys_support import Tables

pytest_plugins = ["tests.unit.keys_support"]


class Context:
    function_name = "spend-flush"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:spend-flush"
    aws_request_id = "unit"

    def __init__(self) -> None:
        self.remaining = [60_000, 5_000]  # the second check is inside the stop margin

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining.pop(0) if len(self.remaining) > 1 else self.remaining[0]


def test_the_scheduled_run_persists_the_stream_and_stops_before_its_timeout(
    gateway_env: Tables,
    valkey: redis.Redis,
    valkey_server: LocalValkey,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from gateway.clients import clear_clients
    from gateway.settings import get_settings

    monkeypatch.setenv("REDIS_URL", valkey_server.url)
    get_settings.cache_clear()
    clear_clients()
    for n in range(2):
        entry = SpendEntry(
            key_hash="h" * 64, token_id="t" * 32, request_id=f"r{n}", started_epoch=1.8e9,
            ended_epoch=1.8e9, model="gpt-4o", provider="openai", call_type="chat",
            cost=Decimal("0.1"),
        )  # fmt: skip
        valkey.xadd(DEFAULT_STREAM, encode(entry, None))
    from spend_flush_app.app import handler

    summary = handler({"source": "aws.events"}, Context())
    assert summary["written"] == 2 and summary["failed"] == 0
    assert summary["spend_backlog_entries"] == 0
    assert len(gateway_env.spend_items()) == 2
    clear_clients()
