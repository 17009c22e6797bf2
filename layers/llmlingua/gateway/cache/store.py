"""The Redis/Valkey adapter: entries, the vector index (FT.*) and its fallback.

Layout (`ns` = cache_params.namespace, `{t}` = the tenant's hash tag, `emb` = embedder name):
  ns:x:{t}:<hash>          HASH r (response JSON), c (created)          exact-only entries
  ns:s:emb:{t}:<hash>      HASH r, c, g (guard features), v (float32), t, m, p (TAGs)
  ns:idx:emb               FT index over ns:s:emb:*: t, m, p TAG + v VECTOR (HNSW, cosine)
  ns:n:{t}                 ZSET entry -> expiry: caps a tenant's entries (oldest evicted)
  ns:fz:emb:{t}:<p>, ns:fv:emb:{t}:<p>   without a search module: ZSET + HASH of int8 vectors
                                         of one partition, capped at fallback_max_entries
Every entry expires by TTL; valkey-search drops expired keys from the index by itself.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from gateway.cache import events
from gateway.cache.keys import RequestKey
from gateway.cache.vectors import from_float32, nearest_int8, to_float32, to_int8

# Adds a member with its expiry, then evicts expired members and the oldest above the cap.
_ADMIT = """
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
local evicted = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[3])
local over = redis.call('ZCARD', KEYS[1]) - #evicted - tonumber(ARGV[4])
if over > 0 then
  for _, m in ipairs(redis.call('ZRANGE', KEYS[1], #evicted, #evicted + over - 1)) do
    table.insert(evicted, m)
  end
end
for _, m in ipairs(evicted) do
  redis.call('ZREM', KEYS[1], m)
  if KEYS[2] then redis.call('HDEL', KEYS[2], m) end
  if ARGV[6] == '1' then redis.call('UNLINK', m) end
end
redis.call('EXPIRE', KEYS[1], ARGV[5])
if KEYS[2] then redis.call('EXPIRE', KEYS[2], ARGV[5]) end
return #evicted
"""


class CorruptEntry(Exception):  # noqa: N818 - a state of the data
    pass


@dataclass(frozen=True)
class Entry:
    key: str
    response: dict[str, Any]
    created: float
    features: dict[str, Any] | None = None
    vector: list[float] | None = None


class CacheStore:
    def __init__(
        self,
        redis: Any,
        namespace: str,
        embedder_name: str,
        *,
        search_mode: str = "auto",
        max_entries: int = 10_000,
        fallback_max_entries: int = 256,
        hnsw_m: int = 16,
        hnsw_ef_construction: int = 200,
    ) -> None:
        self.redis = redis
        self.ns = namespace
        self.emb = embedder_name
        self.max_entries = max_entries
        self.fallback_max_entries = fallback_max_entries
        self.hnsw = (hnsw_m, hnsw_ef_construction)
        self.index = f"{namespace}:idx:{embedder_name}"
        self.prefix = f"{namespace}:s:{embedder_name}:"
        self._mode = None if search_mode == "auto" else search_mode
        self._index_dims: int | None = None

    # -- keys ---------------------------------------------------------------------------
    def entry_key(self, rk: RequestKey, semantic: bool) -> str:
        if semantic:
            return f"{self.prefix}{{{rk.tenant_tag}}}:{rk.request_hash}"
        return f"{self.ns}:x:{{{rk.tenant_tag}}}:{rk.request_hash}"

    def _fallback_keys(self, rk: RequestKey) -> tuple[str, str]:
        tail = f"{self.emb}:{{{rk.tenant_tag}}}:{rk.partition}"
        return f"{self.ns}:fz:{tail}", f"{self.ns}:fv:{tail}"

    # -- exact tier -----------------------------------------------------------------------
    async def get(self, key: str) -> Entry | None:
        """One round trip. A corrupt entry is deleted and reported as absent."""
        raw, created = await self.redis.hmget(key, "r", "c")
        if raw is None:
            return None
        try:
            return Entry(key, _response(raw), float(created or 0))
        except CorruptEntry:
            await self._drop(key)
            return None

    # -- semantic tier --------------------------------------------------------------------
    async def mode(self) -> str:
        """'search' when the server answers FT.* commands, else 'fallback' (checked once)."""
        if self._mode is None:
            import redis

            try:
                await self.redis.execute_command("FT._LIST")
                self._mode = "search"
            except redis.ResponseError:
                self._mode = "fallback"
                events.count("search_unavailable")
        return self._mode

    async def nearest(self, rk: RequestKey, vector: list[float], k: int) -> list[str]:
        """Keys of up to k entries of the same partition, nearest first."""
        if await self.mode() == "search":
            if not await self._ensure_index(len(vector)):
                return []
            return await self._knn(rk, vector, k)
        _, vectors_key = self._fallback_keys(rk)
        blobs = await self.redis.hgetall(vectors_key)
        dims = len(vector)
        blobs = {m: b for m, b in blobs.items() if len(b) == dims}
        return [m.decode() for m, _ in nearest_int8(vector, blobs, k)]

    async def _knn(self, rk: RequestKey, vector: list[float], k: int) -> list[str]:
        query = f"(@t:{{{rk.tenant_tag}}} @m:{{{rk.model_tag}}} @p:{{{rk.partition}}})"
        reply = await self.redis.execute_command(
            "FT.SEARCH", self.index, f"{query}=>[KNN {k} @v $vec AS d]",
            "PARAMS", "2", "vec", to_float32(vector),
            "NOCONTENT", "LIMIT", "0", str(k), "DIALECT", "2",
        )  # fmt: skip
        return [_text(key) for key in _result_ids(reply)]

    async def candidates(self, keys: list[str]) -> list[Entry]:
        """Entries with their features and vectors, in order; corrupt ones deleted."""
        if not keys:
            return []
        pipe = self.redis.pipeline(transaction=False)
        for key in keys:
            pipe.hmget(key, "r", "c", "g", "v")
        found = []
        for key, (raw, created, feats, blob) in zip(keys, await pipe.execute(), strict=True):
            if raw is None:
                continue
            try:
                found.append(
                    Entry(key, _response(raw), float(created or 0), _json(feats), _vector(blob))
                )
            except CorruptEntry:
                await self._drop(key)
        return found

    async def _ensure_index(self, dims: int) -> bool:
        if self._index_dims == dims:
            return True
        import redis

        try:
            await self.redis.execute_command("FT.INFO", self.index)
        except redis.ResponseError:
            m, ef = self.hnsw
            try:
                await self.redis.execute_command(
                    "FT.CREATE", self.index, "ON", "HASH", "PREFIX", "1", self.prefix,
                    "SCHEMA", "t", "TAG", "m", "TAG", "p", "TAG",
                    "v", "VECTOR", "HNSW", "10", "TYPE", "FLOAT32", "DIM", str(dims),
                    "DISTANCE_METRIC", "COSINE", "M", str(m), "EF_CONSTRUCTION", str(ef),
                )  # fmt: skip
                events.count("index_created")
            except redis.ResponseError as error:
                if "exist" not in str(error).lower():  # another instance created it first
                    raise
        self._index_dims = dims
        return True

    # -- store ------------------------------------------------------------------------------
    async def put(
        self,
        rk: RequestKey,
        response: dict[str, Any],
        ttl: int,
        *,
        semantic: bool = False,
        vector: list[float] | None = None,
        features: dict[str, Any] | None = None,
    ) -> str:
        """Store an entry; `semantic` picks the key space, `vector` makes it searchable."""
        now = time.time()
        key = self.entry_key(rk, semantic)
        fields: dict[str, Any] = {"r": json.dumps(response, separators=(",", ":")), "c": now}
        mode = await self.mode() if vector is not None else None
        if vector is not None:
            if mode == "search":
                await self._ensure_index(len(vector))
            fields.update(
                g=json.dumps(features or {}, separators=(",", ":")),
                v=to_float32(vector),
                t=rk.tenant_tag,
                m=rk.model_tag,
                p=rk.partition,
            )
        pipe = self.redis.pipeline(transaction=False)
        pipe.hset(key, mapping=fields)
        pipe.expire(key, ttl)
        namespace_set = f"{self.ns}:n:{{{rk.tenant_tag}}}"
        pipe.eval(_ADMIT, 1, namespace_set, key, now + ttl, now, self.max_entries, ttl, 1)
        if vector is not None and mode == "fallback":
            members, vectors_key = self._fallback_keys(rk)
            pipe.hset(vectors_key, key, to_int8(vector))
            pipe.eval(
                _ADMIT, 2, members, vectors_key,
                key, now + ttl, now, self.fallback_max_entries, ttl, 0,
            )  # fmt: skip
        await pipe.execute()
        return key

    async def _drop(self, key: str) -> None:
        events.count("corrupt_entry")
        await self.redis.unlink(key)


def _result_ids(reply: Any) -> list[Any]:
    """Document ids of an FT.SEARCH ... NOCONTENT reply: RESP3 map or RESP2 [total, id, ...]."""
    if isinstance(reply, dict):
        results = reply.get(b"results", reply.get("results")) or []
        return [r.get(b"id", r.get("id")) for r in results]
    return [item for item in reply[1:] if not isinstance(item, list)]


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _json(raw: bytes | None) -> Any:
    if raw is None:
        return None
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as error:
        raise CorruptEntry from error


def _response(raw: bytes) -> dict[str, Any]:
    body = _json(raw)
    if not isinstance(body, dict) or not isinstance(body.get("choices", body.get("data")), list):
        raise CorruptEntry
    return body


def _vector(blob: bytes | None) -> list[float] | None:
    if blob is None:
        return None
    if len(blob) % 4:
        raise CorruptEntry
    return from_float32(blob)
