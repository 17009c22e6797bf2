"""The Valkey copy of key records (issue 7): read-through, negative entries, tombstones against
stale fills, DynamoDB when Valkey is down, and invalidation by every key change.

Real parts: moto DynamoDB (tables from template.yaml) and a real Valkey. Interleavings are driven
by the lookup's `after_origin_read` hook and injected clocks, never by sleeps.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest
import redis
from gateway.errors import DependencyUnavailable, KeyChangeNotPropagated
from gateway.keys.hashing import hash_key
from gateway.keys.invalidation import KeyChanges
from gateway.keys.model import KeyRecord
from gateway.keys.record_cache import (
    ABSENT,
    TOMBSTONE,
    CachedKeyStore,
    KeyRecordCache,
    cache_key,
    decode,
    encode,
)
from gateway.keys.service import KeyService
from gateway.keys.store import KeyStore
from redis.backoff import NoBackoff
from redis.retry import Retry

from devstack.ports import free_port
from devstack.valkey import LocalValkey
from tests.unit.keys_support import MODELS, PEPPER, Tables, local_credentials

pytest_plugins = ["tests.unit.keys_support"]

TTL, NEGATIVE_TTL, TOMB = 300, 30, 10


def _cache(client: Any) -> KeyRecordCache:
    return KeyRecordCache(client, ttl_s=TTL, negative_ttl_s=NEGATIVE_TTL, tombstone_s=TOMB)


def _service(store: KeyStore, cache: KeyRecordCache | None) -> KeyService:
    credentials = local_credentials()
    changes = None if cache is None else KeyChanges(cache, TTL)
    return KeyService(store, lambda: credentials, lambda: PEPPER, MODELS, changes=changes)


def _down() -> redis.Redis:
    """A client for a port nothing listens on (connection refused at once)."""
    return redis.Redis(
        port=free_port(),
        socket_timeout=0.2,
        socket_connect_timeout=0.2,
        retry=Retry(NoBackoff(), 0),
    )


@pytest.fixture
def cache(valkey: redis.Redis) -> KeyRecordCache:
    return _cache(valkey)


@pytest.fixture
def service(tables: Tables, cache: KeyRecordCache) -> KeyService:
    return _service(tables.store(), cache)


@pytest.fixture
def lookup(tables: Tables, cache: KeyRecordCache) -> CachedKeyStore:
    return CachedKeyStore(cache, tables.store)


def _delete_behind_the_cache(tables: Tables, key_hash: str) -> None:
    tables.client.delete_item(TableName=tables.keys, Key={"key_hash": {"S": key_hash}})


def test_a_record_survives_the_round_trip_through_json() -> None:
    record = KeyRecord(
        key_hash="h" * 64, token_id="t" * 32, key_name="sk-...abcd", created_at="c",
        updated_at="u", models=("gpt-4o",), aliases={"fast": "gpt-4o"},
        max_budget=Decimal("2.5"), spend=Decimal("0.000012345678901234"),
        model_spend={"gpt-4o": Decimal("0.1")}, rpm_limit=5, metadata={"a": [1, {"b": None}]},
        tags=("x",), blocked=True, expires_at=1.8e9, credentials=b"\x00\xffsealed",
        credential_providers=("openai",), previous_key_hashes=("p" * 64,),
    )  # fmt: skip
    assert decode(encode(record)) == record


def test_a_miss_reads_dynamodb_and_fills_then_the_next_read_is_a_hit(
    service: KeyService, lookup: CachedKeyStore, tables: Tables, valkey: redis.Redis
) -> None:
    # Given a key that is not cached yet
    _, record = service.generate({"team_id": "a", "rpm_limit": 5})
    valkey.delete(cache_key(record.key_hash))  # generate wrote it through; start from a miss
    # When it is read twice
    assert lookup.get(record.key_hash) == record
    _delete_behind_the_cache(tables, record.key_hash)  # no invalidation: DynamoDB only
    # Then the second read came from Valkey, with the TTL backstop set
    assert lookup.get(record.key_hash) == record
    assert 0 < valkey.pttl(cache_key(record.key_hash)) <= TTL * 1000


def test_an_unknown_key_is_cached_briefly_as_absent(
    lookup: CachedKeyStore, valkey: redis.Redis
) -> None:
    unknown = hash_key("sk-never-issued", PEPPER)
    assert lookup.get(unknown) is None
    assert valkey.get(cache_key(unknown)) == ABSENT
    assert 0 < valkey.pttl(cache_key(unknown)) <= NEGATIVE_TTL * 1000
    assert lookup.get(unknown) is None


def test_generate_is_never_shadowed_by_a_negative_entry(
    service: KeyService, lookup: CachedKeyStore, valkey: redis.Redis
) -> None:
    # Given a caller-chosen secret that was presented before it existed (cached as absent)
    secret = "sk-chosen-by-the-admin-0001"
    assert lookup.get(hash_key(secret, PEPPER)) is None
    # When the admin creates it
    _, record = service.generate({"key": secret})
    # Then the very next lookup finds it, from Valkey (written through at creation)
    assert decode(valkey.get(cache_key(record.key_hash))) == record  # type: ignore[arg-type]
    assert lookup.get(record.key_hash) == record


def test_creation_never_overwrites_a_tombstone(cache: KeyRecordCache, valkey: redis.Redis) -> None:
    record = KeyRecord(key_hash="a" * 64, token_id="b" * 32, key_name="k", created_at="c",
                       updated_at="u")  # fmt: skip
    cache.tombstone([record.key_hash])  # a change made right after the creation
    assert not cache.put_new(record)
    assert valkey.get(cache_key(record.key_hash)) == TOMBSTONE


def test_a_tombstone_blocks_a_fill_that_read_dynamodb_before_the_change(
    service: KeyService, tables: Tables, cache: KeyRecordCache, valkey: redis.Redis
) -> None:
    # Given an uncached key
    _, record = service.generate({})
    valkey.delete(cache_key(record.key_hash))

    # When an admin blocks it between a reader's GetItem and that reader's fill
    def block_now(_: str) -> None:
        service.set_blocked(record.token_id, True)

    racing = CachedKeyStore(cache, tables.store, after_origin_read=block_now)
    assert racing.get(record.key_hash) == record  # that in-flight request saw the old record
    # Then the old record was not put back: the next request, anywhere, sees the block
    assert valkey.get(cache_key(record.key_hash)) == TOMBSTONE
    assert CachedKeyStore(cache, tables.store).get(record.key_hash).blocked  # type: ignore[union-attr]


def test_reads_during_a_tombstone_go_to_dynamodb_and_do_not_fill(
    service: KeyService, lookup: CachedKeyStore, valkey: redis.Redis
) -> None:
    _, record = service.generate({})
    updated = service.update(record.token_id, {"rpm_limit": 7})
    assert lookup.get(record.key_hash) == updated
    assert valkey.get(cache_key(record.key_hash)) == TOMBSTONE


def test_a_fill_after_a_read_slower_than_half_the_tombstone_is_dropped(
    service: KeyService, tables: Tables, cache: KeyRecordCache, valkey: redis.Redis
) -> None:
    _, record = service.generate({})
    valkey.delete(cache_key(record.key_hash))
    now = [0.0]

    def stall(_: str) -> None:  # the GetItem took half the tombstone's life
        now[0] += TOMB / 2

    slow = CachedKeyStore(cache, tables.store, clock=lambda: now[0], after_origin_read=stall)
    assert slow.get(record.key_hash) == record
    assert valkey.get(cache_key(record.key_hash)) is None


def test_with_valkey_down_every_read_goes_to_dynamodb(tables: Tables) -> None:
    store = tables.store()
    _, record = _service(store, None).generate({})
    lookup = CachedKeyStore(_cache(_down()), tables.store)
    assert lookup.get(record.key_hash) == record
    _delete_behind_the_cache(tables, record.key_hash)
    assert lookup.get(record.key_hash) is None  # nothing stale served: DynamoDB's answer


def _cached(lookup: CachedKeyStore, valkey: redis.Redis, record: KeyRecord) -> None:
    valkey.delete(cache_key(record.key_hash))
    assert lookup.get(record.key_hash) == record
    assert valkey.get(cache_key(record.key_hash)) not in (None, TOMBSTONE)


MUTATIONS: dict[str, Callable[[KeyService, KeyRecord], KeyRecord | None]] = {
    "update": lambda s, r: s.update(r.token_id, {"tpm_limit": 9}),
    "block": lambda s, r: s.set_blocked(r.token_id, True),
    "unblock": lambda s, r: s.set_blocked(r.token_id, False),
    "delete": lambda s, r: None if s.delete([r.token_id]) else r,
}


@pytest.mark.parametrize("operation", sorted(MUTATIONS))
def test_every_change_invalidates_the_cached_record(
    operation: str, service: KeyService, lookup: CachedKeyStore, valkey: redis.Redis
) -> None:
    # Given a cached key
    _, record = service.generate({"blocked": operation == "unblock"})
    _cached(lookup, valkey, record)
    # When it is changed through the service
    after = MUTATIONS[operation](service, record)
    # Then the cached copy is a tombstone and the next lookup sees the change
    assert valkey.get(cache_key(record.key_hash)) == TOMBSTONE
    assert lookup.get(record.key_hash) == after


def test_regenerate_invalidates_the_old_and_the_new_hash(
    service: KeyService, lookup: CachedKeyStore, valkey: redis.Redis
) -> None:
    _, old = service.generate({})
    _cached(lookup, valkey, old)
    new_secret = "sk-regenerated-by-the-admin-0001"
    assert lookup.get(hash_key(new_secret, PEPPER)) is None  # cached as absent
    _, new = service.regenerate(old.token_id, {}, new_key=new_secret)
    assert valkey.get(cache_key(old.key_hash)) == valkey.get(cache_key(new.key_hash)) == TOMBSTONE
    assert lookup.get(old.key_hash) is None
    assert lookup.get(new.key_hash) == new


def test_a_change_that_cannot_be_invalidated_is_stored_and_answered_503(tables: Tables) -> None:
    # Given the keys function cannot reach Valkey
    store = tables.store()
    _, record = _service(store, None).generate({})
    service = _service(store, _cache(_down()))
    # When a key is blocked, the block is stored but the caller is told it may lag
    with pytest.raises(KeyChangeNotPropagated) as refused:
        service.set_blocked(record.token_id, True)
    assert refused.value.status_code == 503 and f"{TTL} s" in refused.value.message
    assert store.get(record.key_hash).blocked  # type: ignore[union-attr]


def test_regenerate_is_refused_before_any_change_when_valkey_is_down(tables: Tables) -> None:
    store = tables.store()
    _, record = _service(store, None).generate({})
    with pytest.raises(DependencyUnavailable) as refused:
        _service(store, _cache(_down())).regenerate(record.token_id, {})
    assert refused.value.code == "key_cache_unavailable"
    assert store.get(record.key_hash) == record


def test_generate_succeeds_even_when_valkey_is_down(tables: Tables) -> None:
    raw, record = _service(tables.store(), _cache(_down())).generate({})
    assert tables.store().get(hash_key(raw, PEPPER)) == record


class _StopsValkeyWhileWriting(KeyStore):
    """The DynamoDB write happens, and Valkey dies while it does (fence up, second tombstone
    impossible)."""

    def __init__(self, client: Any, table: str, server: LocalValkey) -> None:
        super().__init__(client, table)
        self._server = server

    def update(self, key_hash: str, changes: Any) -> KeyRecord:
        updated = super().update(key_hash, changes)
        self._server.stop()
        return updated


@pytest.fixture
def doomed_valkey() -> Iterator[LocalValkey]:
    with LocalValkey(with_search=False).start() as server:
        yield server


@pytest.mark.parametrize("write_seconds, answered", [(1.0, "ok"), (TOMB / 2, "503")])
def test_when_only_the_second_tombstone_fails_a_quick_write_is_still_safe(
    tables: Tables, doomed_valkey: LocalValkey, write_seconds: float, answered: str
) -> None:
    # Given a cached key, and Valkey going away during the next write
    client = redis.Redis.from_url(doomed_valkey.url, socket_timeout=0.5)
    cache = _cache(client)
    plain = _service(tables.store(), cache)
    _, record = plain.generate({})
    store = _StopsValkeyWhileWriting(tables.client, tables.keys, doomed_valkey)
    ticks = iter([0.0, write_seconds])
    changes = KeyChanges(cache, TTL, clock=lambda: next(ticks))
    credentials = local_credentials()
    service = KeyService(store, lambda: credentials, lambda: PEPPER, MODELS, changes=changes)
    # When it is blocked: the fence succeeded, the second tombstone fails
    if answered == "ok":  # the fence outlives every read that could have seen the old record
        assert service.set_blocked(record.token_id, True).blocked
    else:  # the write was too slow for the fence alone: the caller is told
        with pytest.raises(KeyChangeNotPropagated):
            service.set_blocked(record.token_id, True)
    assert tables.store().get(record.key_hash).blocked  # type: ignore[union-attr]
