"""Spend off the response path (issue 7): settle in Valkey, flush to DynamoDB (Valkey + moto)."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from decimal import Decimal
from typing import Any

import redis
from gateway.auth import Principal
from gateway.config import load_config
from gateway.keys.model import KeyRecord
from gateway.keys.stage import VirtualKeyStage
from gateway.limits import Limiter, Limits
from gateway.pipeline import CallContext
from gateway.pricing import PriceBook
from gateway.spend import SpendEntry, SpendLedger
from gateway.spend_flush import MAX_DELIVERIES, SpendFlusher
from gateway.spend_outbox import DEFAULT_STREAM, GROUP, decode, encode
from redis.backoff import NoBackoff
from redis.retry import Retry

from devstack.stack import ROOT
from tests.unit.keys_support import Tables, local_credentials

pytest_plugins = ["tests.unit.keys_support"]

PRICES = PriceBook(load_config(ROOT / "config" / "litellm_config.yaml"))
RESET_AT = 4_000_000_000.0
BASE = KeyRecord(
    key_hash="a" * 64, token_id="b" * 32, key_name="sk-...abcd", created_at="c", updated_at="u"
)
USAGE = {"prompt_tokens": 1000, "completion_tokens": 100, "total_tokens": 1100}
COUNTER = "gw:lim:{" + "b" * 32 + "}:spend"
COST = PRICES.cost("gpt-4o-mini", 1000, 100)


def _ledger(tables: Tables, client: Any = None) -> SpendLedger:
    return SpendLedger(
        client or tables.client, tables.keys, tables.spend_logs, attempts=2, sleep=lambda _: None
    )


def _stage(tables: Tables, client: Any) -> VirtualKeyStage:
    return VirtualKeyStage(Limiter(client), _ledger(tables), PRICES, local_credentials)


def _complete(stage: VirtualKeyStage, record: KeyRecord, n: int = 1) -> list[CallContext]:
    done = []
    for _ in range(n):
        principal = Principal(is_master=False, key=record, key_hash=record.key_hash)
        messages = [{"role": "user", "content": "hello"}]
        ctx = CallContext("chat", principal, {"model": "gpt-4o-mini", "messages": messages})
        ctx.provider = "openai"
        asyncio.run(stage.before(ctx))
        ctx.usage = USAGE
        asyncio.run(stage.after(ctx))
        done.append(ctx)
    return done


def _entry(request_id: str = "req-1", cost: str = "0.25") -> SpendEntry:
    return SpendEntry(
        key_hash=BASE.key_hash,
        token_id=BASE.token_id,
        request_id=request_id,
        started_epoch=1_800_000_000.0,
        ended_epoch=1_800_000_001.5,
        model="gpt-4o-mini",
        provider="openai",
        call_type="chat",
        cost=Decimal(cost),
        prompt_tokens=10,
        completion_tokens=5,
    )


def _stored_spend(tables: Tables) -> Decimal:
    return tables.store().get(BASE.key_hash).spend  # type: ignore[union-attr]


class FailingDynamoDB:
    """DynamoDB that is down for transactions (a real moto client underneath)."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def transact_write_items(self, **request: Any) -> Any:
        from botocore.exceptions import EndpointConnectionError

        raise EndpointConnectionError(endpoint_url="https://dynamodb.invalid")

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


def test_settle_adds_to_the_counter_and_queues_the_entry_in_one_step(
    tables: Tables, valkey: redis.Redis
) -> None:
    # Given a key with a budget window and 1 USD already persisted in it
    record = replace(
        BASE,
        max_budget=Decimal(10),
        spend=Decimal(1),
        budget_duration="1d",
        budget_reset_at=RESET_AT,
    )
    tables.store().create(record)
    # When one request completes
    (ctx,) = _complete(_stage(tables, valkey), record)
    # Then the counter holds the window's spend and the stream the full entry; DynamoDB waits
    assert ctx.notes["spend"]["outcome"] == "queued"
    counter: Any = valkey.hgetall(COUNTER)
    assert counter[b"w"] == repr(RESET_AT).encode() and Decimal(counter[b"s"].decode()) == 1 + COST
    stream: Any = valkey.xrange(DEFAULT_STREAM)
    ((_, fields),) = stream
    entry, reset_at = decode(fields)
    assert (entry.request_id, entry.cost, reset_at) == (ctx.request_id, COST, RESET_AT)
    assert valkey.zcard("gw:lim:{" + BASE.token_id + "}:inflight") == 0
    assert _stored_spend(tables) == 1 and tables.spend_items() == []


def test_a_key_without_limits_still_counts_and_queues(tables: Tables, valkey: redis.Redis) -> None:
    tables.store().create(BASE)
    _complete(_stage(tables, valkey), BASE, n=2)
    spend: Any = valkey.hget(COUNTER, "s")
    assert Decimal(spend.decode()) == 2 * COST
    assert valkey.xlen(DEFAULT_STREAM) == 2


def test_admission_counts_spend_not_yet_persisted(tables: Tables, valkey: redis.Redis) -> None:
    # Given a budget of exactly two requests' cost and DynamoDB still at 0
    record = replace(BASE, max_budget=2 * COST, budget_duration="1d", budget_reset_at=RESET_AT)
    tables.store().create(record)
    stage = _stage(tables, valkey)
    _complete(stage, record, n=2)
    # Then the third is refused on the Redis counter alone (the record still says 0)
    limits = Limits(max_budget=float(2 * COST), window_spend=0.0, window_id=repr(RESET_AT))
    assert Limiter(valkey).admit(BASE.token_id, "r3", limits, 0.0, 0).refused == "budget"
    # And a counter of another window is ignored
    other = replace(limits, window_id=repr(RESET_AT + 86400))
    assert Limiter(valkey).admit(BASE.token_id, "r4", other, 0.0, 0).refused is None


def test_a_new_window_reseeds_the_counter(valkey: redis.Redis) -> None:
    limiter = Limiter(valkey)
    old = Limits(window_spend=5.0, window_id="1000.0")
    limiter.settle("b" * 32, "r1", 0, old, release=False, cost=Decimal("1"))
    assert valkey.hget(COUNTER, "s") == b"6"
    new = Limits(window_spend=0.0, window_id="2000.0")
    limiter.settle("b" * 32, "r2", 0, new, release=False, cost=Decimal("0.5"))
    assert valkey.hgetall(COUNTER) == {b"w": b"2000.0", b"s": b"0.5"}
    # A late request of the old window adds to the newer one instead of resetting it
    limiter.settle("b" * 32, "r3", 0, old, release=False, cost=Decimal("0.25"))
    assert valkey.hgetall(COUNTER) == {b"w": b"2000.0", b"s": b"0.75"}


def test_the_flusher_persists_acks_and_deletes(tables: Tables, valkey: redis.Redis) -> None:
    record = replace(BASE, team_id="t")
    tables.store().create(record)
    _complete(_stage(tables, valkey), record, n=3)
    stats = SpendFlusher(valkey, _ledger(tables), DEFAULT_STREAM).drain()
    assert (stats.written, stats.failed) == (3, 0)
    assert _stored_spend(tables) == 3 * COST and len(tables.spend_items()) == 3
    assert valkey.xlen(DEFAULT_STREAM) == 0
    assert valkey.xpending(DEFAULT_STREAM, GROUP)["pending"] == 0


def test_a_redelivered_entry_counts_once(tables: Tables, valkey: redis.Redis) -> None:
    tables.store().create(BASE)
    fields = encode(_entry(), None)
    valkey.xadd(DEFAULT_STREAM, fields)
    valkey.xadd(DEFAULT_STREAM, fields)  # the same request queued twice (a retried settle)
    stats = SpendFlusher(valkey, _ledger(tables), DEFAULT_STREAM).drain()
    assert (stats.written, stats.duplicates) == (1, 1)
    assert _stored_spend(tables) == Decimal("0.25") and len(tables.spend_items()) == 1


def test_a_failed_write_stays_pending_and_a_later_run_persists_it(
    tables: Tables, valkey: redis.Redis
) -> None:
    tables.store().create(BASE)
    valkey.xadd(DEFAULT_STREAM, encode(_entry(), None))
    # When DynamoDB is down, the entry is not lost: it stays pending in the group
    down = SpendFlusher(valkey, _ledger(tables, FailingDynamoDB(tables.client)), DEFAULT_STREAM)
    assert down.drain().failed == 1
    assert valkey.xpending(DEFAULT_STREAM, GROUP)["pending"] == 1
    # Then a later run (after the claim idle time; 0 here) persists it, once
    later = SpendFlusher(valkey, _ledger(tables), DEFAULT_STREAM, claim_idle_ms=0)
    assert later.drain().written == 1
    assert _stored_spend(tables) == Decimal("0.25") and valkey.xlen(DEFAULT_STREAM) == 0


def test_entries_a_dead_consumer_left_pending_are_claimed(
    tables: Tables, valkey: redis.Redis
) -> None:
    tables.store().create(BASE)
    for n in range(3):
        valkey.xadd(DEFAULT_STREAM, encode(_entry(f"req-{n}"), None))
    valkey.xgroup_create(DEFAULT_STREAM, GROUP, id="0")
    valkey.xreadgroup(GROUP, "dead-lambda", {DEFAULT_STREAM: ">"})  # read, then died
    flusher = SpendFlusher(valkey, _ledger(tables), DEFAULT_STREAM, consumer="alive")
    assert flusher.drain(claim_idle_ms=60_000).written == 0  # not idle long enough yet
    assert flusher.drain(claim_idle_ms=0).written == 3
    assert _stored_spend(tables) == Decimal("0.75") and valkey.xlen(DEFAULT_STREAM) == 0
    assert flusher.backlog() == {"spend_backlog_entries": 0, "spend_backlog_oldest_seconds": 0.0}


def test_redis_down_at_settle_writes_spend_synchronously(tables: Tables) -> None:
    unreachable = redis.Redis(port=1, socket_connect_timeout=0.2, retry=Retry(NoBackoff(), 0))
    tables.store().create(BASE)
    (ctx,) = _complete(_stage(tables, unreachable), BASE)
    assert ctx.notes["spend"]["outcome"] == "recorded"
    assert _stored_spend(tables) == COST and len(tables.spend_items()) == 1


class OneKeyDown:
    """DynamoDB failing transactions for one key only (a real moto client underneath)."""

    def __init__(self, client: Any, key_hash: str) -> None:
        self._client, self._key_hash = client, key_hash

    def transact_write_items(self, **request: Any) -> Any:
        from botocore.exceptions import EndpointConnectionError

        if self._key_hash in str(request):
            raise EndpointConnectionError(endpoint_url="https://dynamodb.invalid")
        return self._client.transact_write_items(**request)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


def test_keys_flush_in_parallel_and_one_failing_key_holds_back_only_its_own(
    tables: Tables, valkey: redis.Redis
) -> None:
    other = replace(BASE, key_hash="c" * 64, token_id="d" * 32)
    tables.store().create(BASE)
    tables.store().create(other)
    for n in range(4):
        valkey.xadd(DEFAULT_STREAM, encode(_entry(f"mine-{n}"), None))
        theirs = replace(_entry(f"theirs-{n}"), key_hash=other.key_hash, token_id=other.token_id)
        valkey.xadd(DEFAULT_STREAM, encode(theirs, None))
    ledger = _ledger(tables, OneKeyDown(tables.client, BASE.key_hash))
    stats = SpendFlusher(valkey, ledger, DEFAULT_STREAM).drain()
    assert (stats.written, stats.failed) == (4, 1)
    assert tables.store().get(other.key_hash).spend == Decimal(1)  # type: ignore[union-attr]
    assert valkey.xlen(DEFAULT_STREAM) == 4  # BASE's entries wait, none lost
    assert SpendFlusher(valkey, _ledger(tables), DEFAULT_STREAM).drain(claim_idle_ms=0).written == 4
    assert _stored_spend(tables) == Decimal(1) and valkey.xlen(DEFAULT_STREAM) == 0


def test_an_entry_dynamodb_always_refuses_is_dead_lettered_not_dropped(
    tables: Tables, valkey: redis.Redis
) -> None:
    tables.store().create(BASE)
    valkey.xadd(DEFAULT_STREAM, encode(_entry("poison"), None))
    valkey.xadd(DEFAULT_STREAM, encode(_entry("fine"), None))
    refusing = _ledger(tables, OneKeyDown(tables.client, "poison"))
    flusher = SpendFlusher(valkey, refusing, DEFAULT_STREAM, claim_idle_ms=0)
    for _ in range(MAX_DELIVERIES + 2):
        flusher.drain()
    assert valkey.xlen(DEFAULT_STREAM + ":dead") == 1 and valkey.xlen(DEFAULT_STREAM) == 0
    dead: Any = valkey.xrange(DEFAULT_STREAM + ":dead")
    assert decode(dead[0][1])[0].request_id == "poison"
    assert [item["request_id"]["S"] for item in tables.spend_items()] == ["fine"]


def test_a_cost_in_exponent_notation_is_written(tables: Tables, valkey: redis.Redis) -> None:
    tables.store().create(BASE)
    valkey.xadd(DEFAULT_STREAM, encode(_entry(cost="2E-8"), None))  # one embedding token
    assert SpendFlusher(valkey, _ledger(tables), DEFAULT_STREAM).drain().written == 1
    assert _stored_spend(tables) == Decimal("2E-8")


def test_idle_consumers_without_pending_entries_are_pruned(
    tables: Tables, valkey: redis.Redis
) -> None:
    valkey.xadd(DEFAULT_STREAM, encode(_entry(), None))
    valkey.xgroup_create(DEFAULT_STREAM, GROUP, id="$")
    valkey.xreadgroup(GROUP, "gone-instance", {DEFAULT_STREAM: ">"})  # read nothing, left
    flusher = SpendFlusher(valkey, _ledger(tables), DEFAULT_STREAM, consumer="this")
    assert flusher.prune_consumers(idle_ms=0) == 1
    assert valkey.xinfo_consumers(DEFAULT_STREAM, GROUP) == []
