"""Read-your-writes for admins (issue 7): spend is queued in Valkey and persisted by the spend
flusher about a second later, so the keys function drains the spend stream itself before it
shows spend (/key/info, /key/list, /spend/logs) or changes spend or budget fields (/key/update,
/key/regenerate). After such a change it drops the key's Valkey spend counter, so the next
admission re-seeds it from DynamoDB.

Draining claims every pending entry, other flushers' included: writes are idempotent, so an entry
two flushers write at once still counts once. Without REDIS_URL there is no stream: a no-op.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from gateway.clients import redis_client
from gateway.errors import DependencyUnavailable
from gateway.limits import Limiter
from gateway.observability import logger
from gateway.settings import get_settings
from gateway.spend_factory import spend_flusher

SPEND_FIELDS = frozenset({"spend", "max_budget", "budget_duration"})
_MAX_ENTRIES = 5_000  # bounded: a huge backlog is the scheduled flusher's job


class SpendSync:
    def __init__(self, enabled: bool) -> None:
        self._enabled = enabled

    @staticmethod
    def touches(settings: Mapping[str, Any]) -> bool:
        return bool(SPEND_FIELDS & set(settings))

    def drain(self, required: bool = False) -> None:
        """Persist the queued spend now. `required`: a failure is a 503 instead of a warning
        (an admin's spend change must not race entries still in the stream)."""
        if not self._enabled:
            return
        try:
            stats = spend_flusher().drain(claim_idle_ms=0, max_entries=_MAX_ENTRIES)
        except Exception as error:  # redis.RedisError, socket errors
            if required:
                raise DependencyUnavailable("Queued spend could not be persisted.") from error
            logger.warning("spend_drain_failed", extra={"error_type": type(error).__name__})
            return
        if stats.failed and required:
            raise DependencyUnavailable("Queued spend could not be persisted.")

    def forget(self, token_ids: Iterable[str]) -> None:
        """Drop the keys' spend counters (best effort: logged if Valkey is unreachable)."""
        if not self._enabled:
            return
        limiter = Limiter(redis_client())
        for token_id in token_ids:
            try:
                limiter.forget_spend(token_id)
            except DependencyUnavailable:
                logger.warning("spend_counter_reset_failed", extra={"token_id": token_id})


def spend_sync() -> SpendSync:
    return SpendSync(enabled=bool(get_settings().redis_url))


def drained() -> None:
    """A route dependency: persist queued spend before the route reads it."""
    spend_sync().drain()
