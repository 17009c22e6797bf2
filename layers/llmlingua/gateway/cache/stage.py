"""CacheStage: answer from the cache before the provider call, store the answer after it.

before: exact tier (one round trip), then the semantic tier (embed, KNN in the tenant's
        partition, guards). A hit returns the cached body, or for a stream its replay.
after:  store the response (a stream's chunks rebuilt), unless `no-store` or a failure.
Redis down or slow: the request goes to the provider as if the cache were off (BYPASS, counted)
and the cache is skipped for `breaker_seconds`. Nothing here imports litellm.
"""

from __future__ import annotations

import asyncio
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from gateway.cache import events
from gateway.cache.guards import Features, features, mismatch
from gateway.cache.keys import RequestKey, request_key
from gateway.cache.policy import TOP_K, CachePolicy, RequestControls, request_controls
from gateway.cache.replay import rebuild, replay, storable
from gateway.cache.store import CacheStore, Entry
from gateway.cache.vectors import cosine, normalised
from gateway.embeddings import Embedder, EmbeddingUnavailable, embed_async
from gateway.pipeline import CallContext
from gateway.providers import ProviderResult

HIT, SEMANTIC_HIT, MISS, BYPASS = "HIT", "SEMANTIC_HIT", "MISS", "BYPASS"
_FAILURES: tuple[type[BaseException], ...] = (OSError, asyncio.TimeoutError)


def _redis_errors() -> tuple[type[BaseException], ...]:
    import redis

    return (redis.RedisError, *_FAILURES)


@dataclass
class _Lookup:
    key: RequestKey
    controls: RequestControls
    policy: CachePolicy
    status: str = MISS
    vector: list[float] | None = None
    features: Features | None = None
    failed: bool = False


class CacheStage:
    def __init__(
        self,
        policy: CachePolicy,
        store_factory: Callable[[], CacheStore],
        embedder: Embedder | None,
        *,
        breaker_seconds: float = 5.0,
    ) -> None:
        self.policy = policy
        self.embedder = embedder if policy.semantic else None
        self.breaker_seconds = breaker_seconds
        self._store_factory = store_factory
        self._stores: weakref.WeakKeyDictionary[Any, CacheStore] = weakref.WeakKeyDictionary()
        self._open_until = 0.0
        self._embedder_open_until = 0.0  # after an embedder failure: exact tier only for a while

    def _store(self) -> CacheStore:
        loop = asyncio.get_running_loop()
        if loop not in self._stores:
            self._stores[loop] = self._store_factory()
        return self._stores[loop]

    async def before(self, ctx: CallContext) -> ProviderResult | None:
        controls = request_controls(ctx.params, ctx.request_headers)  # always strip `cache`
        policy = self.policy.for_key(ctx.principal.key)
        if not policy.enabled or ctx.kind not in policy.call_types:
            return None
        key = request_key(ctx.kind, ctx.params, ctx.principal, policy.semantic_max_chars)
        lookup = _Lookup(key, controls, policy)
        ctx.notes["cache"] = lookup
        ctx.response_headers["x-litellm-cache-key"] = key.request_hash
        if controls.no_cache or (policy.default_off and not controls.asked):
            self._status(ctx, lookup, BYPASS)
            return None
        if time.monotonic() < self._open_until:
            events.count("breaker_open")
            lookup.failed = True
            self._status(ctx, lookup, BYPASS)
            return None
        try:
            return await self._lookup(ctx, lookup)
        except _redis_errors():
            self._trip("lookup_error")
            lookup.failed = True
            self._status(ctx, lookup, BYPASS)
            return None

    async def _lookup(self, ctx: CallContext, lookup: _Lookup) -> ProviderResult | None:
        store, key, controls = self._store(), lookup.key, lookup.controls
        semantic = self._semantic_ready(key)
        entry = await store.get(store.entry_key(key, semantic))
        if entry is not None and _fresh(entry, controls):
            return self._hit(ctx, lookup, entry, HIT)
        if not semantic or key.semantic_text is None:
            self._status(ctx, lookup, MISS)
            return None
        if not await self._embed(lookup):
            self._status(ctx, lookup, MISS)
            return None
        assert lookup.vector is not None and lookup.features is not None
        candidates = await store.candidates(await store.nearest(key, lookup.vector, TOP_K))
        scored = sorted(
            ((cosine(lookup.vector, c.vector), c) for c in candidates if c.vector),
            key=lambda pair: pair[0],
            reverse=True,
        )
        for similarity, candidate in scored:
            if similarity < lookup.policy.threshold:
                break
            if not _fresh(candidate, controls) or candidate.features is None:
                continue
            reason = mismatch(
                lookup.features,
                Features.from_json(candidate.features),
                similarity,
                lookup.policy.substitution_threshold,
            )
            if reason is None:
                ctx.response_headers["x-cache-similarity"] = f"{similarity:.4f}"
                return self._hit(ctx, lookup, candidate, SEMANTIC_HIT)
            events.count(f"guard_rejected.{reason}")
        self._status(ctx, lookup, MISS)
        return None

    def _semantic_ready(self, key: RequestKey) -> bool:
        embedder = self.embedder
        if embedder is None or key.semantic_text is None:
            return False
        return bool(getattr(embedder, "available", True))

    def _embedder_up(self) -> bool:
        return time.monotonic() >= self._embedder_open_until

    async def _embed(self, lookup: _Lookup) -> bool:
        assert self.embedder is not None and lookup.key.semantic_text is not None
        if not self._embedder_up():
            return False
        try:
            vectors = await embed_async(self.embedder, [lookup.key.semantic_text])
        except EmbeddingUnavailable:
            events.count("embed_error")
            self._embedder_open_until = time.monotonic() + 6 * self.breaker_seconds
            return False
        lookup.vector = normalised(vectors[0])
        lookup.features = features(lookup.key.semantic_text)
        return True

    def _hit(self, ctx: CallContext, lookup: _Lookup, entry: Entry, status: str) -> ProviderResult:
        self._status(ctx, lookup, status)
        ctx.cost = 0.0
        body: Any = dict(entry.response)
        if ctx.streaming:
            wants_usage = bool((ctx.params.get("stream_options") or {}).get("include_usage"))
            body = replay(entry.response, ctx.kind, include_usage=wants_usage)
        return ProviderResult(body, {})

    def _status(self, ctx: CallContext, lookup: _Lookup, status: str) -> None:
        lookup.status = status
        ctx.notes["cache_status"] = status
        ctx.response_headers["x-cache-status"] = status

    def _trip(self, event: str) -> None:
        events.count(event)
        self._open_until = time.monotonic() + self.breaker_seconds

    async def after(self, ctx: CallContext) -> None:
        lookup: _Lookup | None = ctx.notes.get("cache")
        if (
            lookup is None
            or lookup.status in (HIT, SEMANTIC_HIT)
            or lookup.failed
            or lookup.controls.no_store
            or ctx.error is not None
        ):
            return
        response = rebuild(ctx.chunks or [], ctx.kind) if ctx.streaming else ctx.response
        if not response or not storable(response):
            return
        try:
            semantic = self._semantic_ready(lookup.key)
            if semantic and lookup.vector is None:
                await self._embed(lookup)
            await self._store().put(
                lookup.key,
                response,
                lookup.controls.ttl or lookup.policy.ttl,
                semantic=semantic,
                vector=lookup.vector,
                features=lookup.features.to_json() if lookup.features else None,
            )
        except _redis_errors():
            self._trip("store_error")


def _fresh(entry: Entry, controls: RequestControls) -> bool:
    return controls.max_age is None or time.time() - entry.created <= controls.max_age
