"""Fill one tenant's cache partition with filler entries (random unit vectors), fast.

bench.cache.latency.Bench.populate does the same for the master key's partition; the handler
bench needs a virtual key's tenant (its team), so the principal is a parameter here. Every filler
shares the tenant, model and parameters of the measured requests: one partition, so the vector
search's tag filter does not narrow the KNN (the worst case for a tenant with N entries).
"""

from __future__ import annotations

import asyncio
import random
import time
from typing import Any

from gateway.auth import Principal
from gateway.cache.client import cache_redis
from gateway.cache.keys import request_key
from gateway.cache.store import CacheStore
from gateway.cache.vectors import normalised

from bench.cache.latency import answer

DIMS = 384  # all-MiniLM-L6-v2
BATCH = 64


def chat_params(model: str, text: str) -> dict[str, Any]:
    return {"model": model, "messages": [{"role": "user", "content": text}]}


async def add_fillers(
    redis_url: str,
    *,
    namespace: str,
    embedder_name: str,
    principal: Principal,
    model: str,
    start: int,
    stop: int,
    max_entries: int,
) -> float:
    """Store fillers number start..stop-1 (semantic entries with vectors); returns seconds."""
    started = time.perf_counter()
    client = cache_redis(redis_url, socket_timeout=30, connect_timeout=5, max_connections=BATCH)
    store = CacheStore(
        client, namespace, embedder_name, search_mode="search", max_entries=max_entries
    )
    rng = random.Random(start)  # noqa: S311 - filler vectors
    features = {"words": ["filler"]}
    pending = []
    for i in range(start, stop):
        text = f"filler {i}"
        key = request_key("chat", chat_params(model, text), principal, 1000)
        vector = normalised([rng.gauss(0, 1) for _ in range(DIMS)])
        pending.append(
            store.put(key, answer(text), 3600, semantic=True, vector=vector, features=features)
        )
        if len(pending) == BATCH:
            await asyncio.gather(*pending)
            pending = []
    await asyncio.gather(*pending)
    await client.aclose()
    return time.perf_counter() - started


def partitions(redis_url: str, namespace: str) -> dict[str, int]:
    """Entries per partition tag (`p`) in the namespace: the check that the fillers and the
    entries the gateway stored itself share one partition."""
    import redis

    client = redis.Redis.from_url(redis_url)
    counts: dict[str, int] = {}
    for key in client.scan_iter(f"{namespace}:s:*", count=5000):
        tag = client.hget(key, "p")
        name = tag.decode() if isinstance(tag, bytes) else str(tag or "-")
        counts[name] = counts.get(name, 0) + 1
    client.close()
    return counts
