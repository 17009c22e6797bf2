"""SpendLedger: the spend transaction against moto, retries, idempotency and window resets."""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest
from botocore.exceptions import ClientError
from gateway.keys.model import KeyRecord
from gateway.spend import SpendEntry, SpendLedger, SpendWriteFailed

from tests.unit.keys_support import Tables

pytest_plugins = ["tests.unit.keys_support"]

NOW = 1_800_000_000.0
KEY = KeyRecord(
    key_hash="a" * 64, token_id="b" * 32, key_name="sk-...abcd", created_at="c", updated_at="u"
)


def _entry(request_id: str = "req-1", cost: str = "0.00000105", **fields: Any) -> SpendEntry:
    return SpendEntry(
        key_hash=KEY.key_hash,
        token_id=KEY.token_id,
        request_id=request_id,
        started_epoch=NOW - 1,
        ended_epoch=NOW,
        model="gpt-4o-mini",
        provider="openai",
        call_type="chat",
        cost=Decimal(cost),
        prompt_tokens=3,
        completion_tokens=1,
        team_id="team-a",
        **fields,
    )


def _ledger(client: Any, tables: Tables, **options: Any) -> SpendLedger:
    options = {"sleep": lambda _: None, "clock": lambda: NOW, **options}
    return SpendLedger(client, tables.keys, tables.spend_logs, **options)


def _key(tables: Tables) -> KeyRecord | None:
    return tables.store().get(KEY.key_hash)


def test_spend_is_added_and_logged_in_one_write(tables: Tables) -> None:
    tables.store().create(KEY)
    ledger = _ledger(tables.client, tables)
    assert ledger.record(_entry("r1"), None) == "recorded"
    assert ledger.record(_entry("r2", cost="0.2"), None) == "recorded"
    key = _key(tables)
    assert key is not None and key.spend == Decimal("0.20000105")
    assert key.model_spend == {"gpt-4o-mini": Decimal("0.20000105")}
    logs = tables.spend_items()
    assert sorted(item["request_id"]["S"] for item in logs) == ["r1", "r2"]
    assert int(logs[0]["ttl"]["N"]) == int(NOW) + 90 * 86400
    assert logs[0]["team_id"]["S"] == "team-a"


def test_a_retried_write_is_not_counted_twice(tables: Tables) -> None:
    tables.store().create(KEY)
    ledger = _ledger(tables.client, tables)
    assert ledger.record(_entry("r1"), None) == "recorded"
    assert ledger.record(_entry("r1"), None) == "duplicate"
    key = _key(tables)
    assert key is not None and key.spend == Decimal("0.00000105")
    assert len(tables.spend_items()) == 1


def test_spend_of_a_deleted_key_is_still_logged(tables: Tables) -> None:
    assert _ledger(tables.client, tables).record(_entry("r1"), None) == "log_only"
    assert _key(tables) is None  # not resurrected by the update
    assert len(tables.spend_items()) == 1


def test_an_expired_budget_window_restarts_from_this_cost(tables: Tables) -> None:
    # Given a daily window that ended an hour ago with 5 USD spent
    window = replace(KEY, budget_duration="1d", budget_reset_at=NOW - 3600, spend=Decimal(5))
    tables.store().create(window)
    entry = _entry("r1", cost="0.5", budget_duration="1d")
    # When a request settles believing the window is still open
    assert _ledger(tables.client, tables).record(entry, NOW + 10) == "recorded"
    # Then the window restarted at this cost and moved forward by whole days
    key = _key(tables)
    assert key is not None and key.spend == Decimal("0.5")
    assert key.budget_reset_at == NOW - 3600 + 86400


class _Flaky:
    """The DynamoDB client, failing its first `failures` transactions like a busy table."""

    def __init__(self, client: Any, failures: int, code: str = "TransactionConflict") -> None:
        self._client, self.failures, self.code, self.calls = client, failures, code, 0

    def transact_write_items(self, **request: Any) -> Any:
        self.calls += 1
        if self.calls <= self.failures:
            reasons = [{"Code": "None"}, {"Code": self.code}]
            error = {"Error": {"Code": "TransactionCanceledException", "Message": "busy"}}
            raise ClientError({**error, "CancellationReasons": reasons}, "TransactWriteItems")
        return self._client.transact_write_items(**request)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


def test_conflicts_are_retried_with_backoff(tables: Tables) -> None:
    tables.store().create(KEY)
    flaky, pauses = _Flaky(tables.client, failures=3), list[float]()
    ledger = _ledger(flaky, tables, sleep=pauses.append)
    assert ledger.record(_entry("r1"), None) == "recorded"
    assert flaky.calls == 4 and len(pauses) == 3 and pauses[0] < pauses[2]


def test_giving_up_logs_the_entry_for_replay_without_the_key_hash(
    tables: Tables,
    caplog: pytest.LogCaptureFixture,
) -> None:
    tables.store().create(KEY)
    ledger = _ledger(_Flaky(tables.client, failures=99), tables, attempts=3)
    with caplog.at_level(logging.ERROR), pytest.raises(SpendWriteFailed):
        ledger.record(_entry("r1"), None)
    assert _key(tables).spend == 0  # type: ignore[union-attr]
    (record,) = [r for r in caplog.records if r.getMessage() == "spend_write_failed"]
    entry = record.spend_entry  # type: ignore[attr-defined]
    assert entry["request_id"] == "r1" and entry["spend"] == "0.00000105"
    assert KEY.key_hash not in json.dumps(entry)


def test_cache_hits_and_compression_are_logged(tables: Tables) -> None:
    tables.store().create(KEY)
    compression = {"original_tokens": 900, "compressed_tokens": 300, "saved_tokens": 600}
    entry = _entry("r1", cost="0", cache_status="SEMANTIC_HIT", compression=compression)
    _ledger(tables.client, tables).record(entry, None)
    (item,) = tables.spend_items()
    assert item["cache_hit"] == {"BOOL": True} and item["spend"] == {"N": "0"}
    assert item["compression"]["M"]["saved_tokens"] == {"N": "600"}
