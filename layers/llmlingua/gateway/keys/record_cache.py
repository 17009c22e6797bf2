"""Read-through copy of virtual-key records in Valkey, invalidated by every change to a key.

One string per key hash, `gw:key:v1:{<key_hash>}`, holds one of:
- the key's DynamoDB item as JSON (`codec.record_to_item`; binary values base64), TTL
  `KEY_CACHE_TTL_SECONDS` (a backstop: invalidation, not expiry, is what makes changes visible);
- `N`: no such key (negative entry, `KEY_CACHE_NEGATIVE_TTL_SECONDS`), so floods of made-up keys
  do not each cost a DynamoDB read;
- `T`: a tombstone written by the keys function around every change (`KEY_CACHE_TOMBSTONE_SECONDS`).
  While it exists readers go to DynamoDB and may not fill.

Fills use `SET ... NX`: a tombstone (or any entry) blocks them, so a reader that read DynamoDB
before an admin change can never put the old record back after the change's invalidation. A fill
is also dropped when more than half the tombstone's life passed since its read began, so a reader
stalled past the tombstone cannot either. Redis unreachable: the read goes to DynamoDB (the
correct answer, never "allow"), and this instance skips Valkey for `breaker_s` so a Valkey that
times out does not add its timeout to every request.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from redis.exceptions import RedisError

from gateway.keys.codec import item_to_record, record_to_item
from gateway.keys.model import KeyRecord
from gateway.observability import logger

if TYPE_CHECKING:
    from gateway.keys.store import KeyStore

_PREFIX = "gw:key:v1:"
TOMBSTONE = b"T"
ABSENT = b"N"
# Write-through of a new key: replaces a negative entry, never a tombstone (a later change's).
_PUT_UNLESS_TOMBSTONE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1
"""


def cache_key(key_hash: str) -> str:
    return f"{_PREFIX}{{{key_hash}}}"  # hash tag: one slot per key on Redis Cluster


class KeyRecordCache:
    """The Valkey side: read, fill (only where nothing is stored) and tombstone key entries."""

    def __init__(self, client: Any, ttl_s: int, negative_ttl_s: int, tombstone_s: int) -> None:
        self._client = client
        self._ttl_ms = ttl_s * 1000
        self._negative_ttl_ms = negative_ttl_s * 1000
        self.tombstone_s = tombstone_s

    def read(self, key_hash: str) -> bytes | None:
        """The stored value (JSON, ABSENT or TOMBSTONE) or None; raises RedisError."""
        value: bytes | None = self._client.get(cache_key(key_hash))
        return value

    def fill(self, key_hash: str, record: KeyRecord | None) -> bool:
        """Store what DynamoDB answered, unless anything (a tombstone above all) is there."""
        if record is None:
            if self._negative_ttl_ms <= 0:
                return False
            value, ttl_ms = ABSENT, self._negative_ttl_ms
        else:
            value, ttl_ms = encode(record), self._ttl_ms
        return bool(self._client.set(cache_key(key_hash), value, px=ttl_ms, nx=True))

    def put_new(self, record: KeyRecord) -> bool:
        """A just-created key, so its first requests are hits; raises RedisError."""
        script = self._client.register_script(_PUT_UNLESS_TOMBSTONE)
        keys, args = [cache_key(record.key_hash)], [TOMBSTONE, encode(record), self._ttl_ms]
        return bool(script(keys=keys, args=args))

    def tombstone(self, key_hashes: Iterable[str]) -> None:
        """Replace each entry by a tombstone (one round trip); raises RedisError."""
        pipe = self._client.pipeline(transaction=False)
        for key_hash in key_hashes:
            pipe.set(cache_key(key_hash), TOMBSTONE, px=self.tombstone_s * 1000)
        pipe.execute()


class CachedKeyStore:
    """`KeyStore.get` with a read-through Valkey copy in front (the completion path's lookup)."""

    def __init__(
        self,
        cache: KeyRecordCache,
        origin: Callable[[], KeyStore],
        clock: Callable[[], float] = time.monotonic,
        breaker_s: float = 5.0,
        after_origin_read: Callable[[str], None] | None = None,  # tests: interleave a change
    ) -> None:
        self._cache = cache
        self._origin = origin
        self._clock = clock
        self._breaker_s = breaker_s
        self._skip_until = float("-inf")
        self._after_origin_read = after_origin_read

    def get(self, key_hash: str) -> KeyRecord | None:
        if self._clock() < self._skip_until:
            return self._origin().get(key_hash)
        try:
            stored = self._cache.read(key_hash)
        except RedisError:
            logger.warning("key_cache_unavailable_reading_dynamodb")
            self._skip_until = self._clock() + self._breaker_s
            return self._origin().get(key_hash)
        if stored == ABSENT:
            return None
        if stored is not None and stored != TOMBSTONE:
            try:
                return decode(stored)
            except (ValueError, KeyError, TypeError):
                logger.warning("key_cache_entry_unreadable")
                return self._origin().get(key_hash)
        started = self._clock()
        record = self._origin().get(key_hash)
        if self._after_origin_read is not None:
            self._after_origin_read(key_hash)
        if stored is None and self._clock() - started < self._cache.tombstone_s / 2:
            try:
                self._cache.fill(key_hash, record)
            except RedisError:
                logger.warning("key_cache_fill_failed")
        return record


def lookup_client(url: str, timeout_s: float) -> Any:
    """The request path's client: short timeouts and no retry. A failed read costs one DynamoDB
    read; a slow one would cost every request (the limiter's client waits 2 s, twice)."""
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    return redis.Redis.from_url(
        url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s, retry=Retry(NoBackoff(), 0)
    )


def encode(record: KeyRecord) -> bytes:
    item = {name: _pack(value) for name, value in record_to_item(record).items()}
    return json.dumps(item, separators=(",", ":")).encode("utf-8")


def decode(value: bytes) -> KeyRecord:
    item = {name: _unpack(attr) for name, attr in json.loads(value).items()}
    return item_to_record(item)


def _pack(attribute: dict[str, Any]) -> dict[str, Any]:
    ((kind, value),) = attribute.items()
    if kind == "B":
        return {"B": base64.b64encode(value).decode("ascii")}
    if kind == "L":
        return {"L": [_pack(v) for v in value]}
    if kind == "M":
        return {"M": {k: _pack(v) for k, v in value.items()}}
    return attribute


def _unpack(attribute: dict[str, Any]) -> dict[str, Any]:
    ((kind, value),) = attribute.items()
    if kind == "B":
        return {"B": base64.b64decode(value)}
    if kind == "L":
        return {"L": [_unpack(v) for v in value]}
    if kind == "M":
        return {"M": {k: _unpack(v) for k, v in value.items()}}
    return attribute
