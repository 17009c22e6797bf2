"""Making a key change visible on every instance: tombstones around the DynamoDB write.

Before the write, the key's cache entries are replaced by tombstones (the fence); after it, again.
Either tombstone alone blocks every stale fill (see record_cache.py); the second one is needed
only when the write took longer than half the tombstone's life. So when the tombstone after the
write fails (Redis unreachable from the keys function), the change is still safe if the fence
succeeded and the write was quick; otherwise instances that cached the key could use the old
record until its TTL ends, and the caller is told so (503 `key_change_not_propagated`) rather
than left to believe a revoked key is dead.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator, Sequence

from redis.exceptions import RedisError

from gateway.errors import DependencyUnavailable, KeyChangeNotPropagated
from gateway.keys.model import KeyRecord
from gateway.keys.record_cache import KeyRecordCache
from gateway.observability import logger


class KeyChanges:
    """Wraps each DynamoDB write of a key in its cache invalidation."""

    def __init__(
        self, cache: KeyRecordCache, ttl_s: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._cache = cache
        self._ttl_s = ttl_s
        self._clock = clock

    def created(self, record: KeyRecord) -> None:
        """After a new key is stored: write it through (replacing a negative entry for its hash,
        which a caller-chosen secret could have). Never an error: the secret is shown once."""
        try:
            self._cache.put_new(record)
        except RedisError:
            logger.warning("key_cache_write_through_failed")

    @contextlib.contextmanager
    def change(
        self,
        key_hashes: Sequence[str],
        *,
        fence: str = "best_effort",  # "required": refuse the change if Redis is unreachable
        unpropagated: str = "raise",  # "log": the answer carries a secret shown only once
        what: str = "The change",
    ) -> Iterator[None]:
        fenced_at = None
        if fence != "none":
            started = self._clock()  # before the call: a lower bound of when the tombstone began
            try:
                self._cache.tombstone(key_hashes)
                fenced_at = started
            except RedisError as error:
                logger.warning("key_cache_fence_failed")
                if fence == "required":
                    raise DependencyUnavailable(
                        "The key cache is unreachable, so the change could not be made safely; "
                        "nothing was changed. Try again shortly.",
                        code="key_cache_unavailable",
                    ) from error
        try:
            yield
        except BaseException:
            with contextlib.suppress(RedisError):  # the write may have landed anyway
                self._cache.tombstone(key_hashes)
            raise
        try:
            self._cache.tombstone(key_hashes)
        except RedisError as error:
            quick = (
                fenced_at is not None and self._clock() - fenced_at < self._cache.tombstone_s / 2
            )
            if quick:  # the fence alone outlived every read that could have seen the old record
                logger.warning("key_cache_invalidation_failed_fence_held")
                return
            logger.error("key_cache_invalidation_failed", extra={"ttl_s": self._ttl_s})
            if unpropagated == "raise":
                raise KeyChangeNotPropagated(
                    f"{what} is stored, but the key cache could not be invalidated: gateway "
                    f"instances may use the previous state of this key for up to "
                    f"{self._ttl_s} s. Repeat the call to apply it everywhere at once.",
                ) from error
