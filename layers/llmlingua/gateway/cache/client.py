"""The cache's async Redis client: short timeouts, one per event loop and URL.

gateway.clients.redis_client (issue 3) is synchronous with 2 s timeouts, right for limits but
not for a cache that must give up within ~100 ms. redis.asyncio connections belong to the loop
that made them (Mangum keeps one loop per instance; tests run several), so the client is
cached per running loop.
"""

from __future__ import annotations

import asyncio
import weakref
from typing import Any

_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[tuple[Any, ...], Any]] = (
    weakref.WeakKeyDictionary()
)


def cache_redis(
    url: str, *, socket_timeout: float, connect_timeout: float, max_connections: int
) -> Any:
    """A redis.asyncio client for `url` on the running loop (binary replies)."""
    import redis.asyncio

    loop = asyncio.get_running_loop()
    per_loop = _clients.setdefault(loop, {})
    key = (url, socket_timeout, connect_timeout, max_connections)
    if key not in per_loop:
        # A blocking pool: a burst beyond max_connections waits (up to the timeout) instead
        # of failing with "Too many connections" and tripping the breaker.
        pool = redis.asyncio.BlockingConnectionPool.from_url(
            url,
            socket_timeout=socket_timeout,
            socket_connect_timeout=connect_timeout,
            max_connections=max_connections,
            timeout=socket_timeout + connect_timeout,
        )
        per_loop[key] = redis.asyncio.Redis(connection_pool=pool)
    return per_loop[key]
