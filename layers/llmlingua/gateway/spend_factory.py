"""Builders wiring the spend flusher to the process-wide clients (issue 7).

Used by the SpendFlushFunction handler, the keys function's read-your-writes drain and
devstack's background flusher. Not cached: building one is free (no I/O until used), and
tests change the environment between cases.
"""

from __future__ import annotations

from typing import Any

from gateway.clients import dynamodb_client, redis_client
from gateway.settings import get_settings
from gateway.spend import SpendLedger
from gateway.spend_flush import SpendFlusher


def spend_ledger(client: Any = None) -> SpendLedger:
    settings = get_settings()
    return SpendLedger(
        client or dynamodb_client(),
        settings.keys_table,
        settings.spend_logs_table,
        retention_days=settings.spend_log_retention_days,
        attempts=settings.spend_write_attempts,
    )


def spend_flusher(
    consumer: str | None = None, *, redis: Any = None, dynamodb: Any = None
) -> SpendFlusher:
    settings = get_settings()
    return SpendFlusher(
        redis or redis_client(),
        spend_ledger(dynamodb),
        settings.spend_stream,
        consumer=consumer,
        claim_idle_ms=settings.spend_flush_claim_idle_seconds * 1000,
    )
