"""Per-key budget reservations, RPM, TPM and parallel-request limits, atomic in Redis.

One Lua script does the whole admission decision in one round trip, so every Lambda instance
sees the same counters and no two can both take the last slot:

- in flight: a ZSET of request ids scored by a lease deadline plus a HASH of each request's
  reservation ("<cost estimate> <token estimate>"). A request that dies without settling
  (Lambda killed) frees its slot and reservation when the lease runs out.
- RPM and TPM: a sliding window of 60 one-second buckets (HASH second -> count/tokens), so a
  limit holds in any 60 s window, not just per calendar minute. RPM counts a request when it
  is admitted; TPM counts a request's actual input + output tokens when it settles, and its
  estimated tokens while it is in flight.
- budget: admitted while window spend + in-flight cost estimates < max_budget. Window spend is
  the key's Redis spend counter for the current window (it includes spend not yet persisted to
  DynamoDB, issue 7) or, without one, the key record's value from DynamoDB.
- settle (issue 7): one round trip releases the slot, counts tokens, adds the cost to the spend
  counter and appends the spend entry to the spend stream (`gateway.spend_outbox`), which the
  spend flusher persists to DynamoDB off the response path.

Time is Redis's own clock (TIME), so instances with skewed clocks still agree.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from gateway.errors import DependencyUnavailable
from gateway.limits_lua import SCRIPT

WINDOW_SECONDS = 60
_PREFIX = "gw:lim"


@dataclass(frozen=True)
class Limits:
    """One key's limits (None: unlimited) and its spend in the current budget window."""

    max_budget: float | None = None
    window_spend: float = 0.0
    max_parallel: int | None = None
    rpm: int | None = None
    tpm: int | None = None
    window_id: str = "none"  # the budget window the spend counter belongs to (issue 7)


@dataclass(frozen=True)
class Decision:
    refused: str | None  # None, "budget", "parallel", "rpm" or "tpm"
    requests_in_window: int  # including this one, when admitted
    tokens_in_window: int  # settled tokens plus in-flight estimates
    retry_after: int = 0

    def remaining_requests(self, limits: Limits) -> int | None:
        return None if limits.rpm is None else max(limits.rpm - self.requests_in_window, 0)

    def remaining_tokens(self, limits: Limits) -> int | None:
        return None if limits.tpm is None else max(limits.tpm - self.tokens_in_window, 0)


class Limiter:
    """Admission and settlement for one key scope (the key's stable token id)."""

    def __init__(self, client: Any, lease_seconds: int = 330) -> None:
        self._client = client
        self._lease_ms = lease_seconds * 1000
        self._script = client.register_script(SCRIPT)
        self._loaded = False

    def admit(
        self,
        scope: str,
        request_id: str,
        limits: Limits,
        cost_estimate: float,
        token_estimate: int,
    ) -> Decision:
        """Reserve a slot, the estimated cost and tokens, or say which limit refused."""
        args = [
            "admit",
            WINDOW_SECONDS,
            request_id,
            self._lease_ms,
            _limit(limits.max_budget),
            repr(float(limits.window_spend)),
            repr(float(cost_estimate)),
            _limit(limits.max_parallel),
            _limit(limits.rpm),
            _limit(limits.tpm),
            int(token_estimate),
            limits.window_id,
        ]
        return self._run(scope, args)

    def settle(
        self,
        scope: str,
        request_id: str,
        tokens_used: int,
        limits: Limits,
        *,
        release: bool = True,
        cost: Decimal | None = None,
        outbox: tuple[str, Mapping[str, str]] | None = None,
    ) -> Decision:
        """Release the request's slot and reservation (if `release`) and count its actual tokens
        toward TPM; add `cost` to the key's window spend counter; XADD `outbox` = (stream,
        fields) in the same round trip. Raises DependencyUnavailable if the entry may not be in
        the stream (the caller then writes the spend synchronously: writes are idempotent)."""
        args = [
            "settle",
            WINDOW_SECONDS,
            request_id,
            int(tokens_used),
            "1" if limits.tpm is not None else "0",
            "1" if release else "0",
            "" if cost is None else format(cost, "f"),
            limits.window_id,
            repr(float(limits.window_spend)),
        ]
        if outbox is None:
            return self._run(scope, args)
        return self._settle_with_outbox(scope, args, outbox)

    def forget_spend(self, scope: str) -> None:
        """Drop the key's spend counter: the next request re-seeds it from DynamoDB."""
        try:
            self._client.delete(_keys(scope)[4])
        except Exception as error:  # redis.RedisError and socket errors
            raise DependencyUnavailable("The rate limiter is unavailable.") from error

    def _settle_with_outbox(
        self, scope: str, args: list[Any], outbox: tuple[str, Mapping[str, str]]
    ) -> Decision:
        # Redis Cluster: a script may only touch keys of one hash slot, and the spend stream is
        # shared by every key, so the XADD is a separate command in the same pipeline. On one
        # node (ElastiCache cluster mode disabled, as template.yaml deploys) the pipeline is a
        # MULTI/EXEC transaction: both commands run back to back and reach replicas and the AOF
        # together, so a failover keeps both or neither. A cluster client cannot run a
        # cross-slot transaction; there the pipeline is one round trip per node, not atomic, and
        # each command's own result decides: a failed XADD means "write synchronously", which
        # is safe whether or not the counter was updated (the ledger is idempotent on the
        # request id, and the counter then agrees with DynamoDB).
        keys = _keys(scope)
        stream, fields = outbox
        try:
            if not self._loaded:
                self._client.script_load(SCRIPT)  # once per process: EVALSHA in the pipeline
                self._loaded = True
            pipe = self._client.pipeline(transaction=not _is_cluster(self._client))
            pipe.evalsha(self._script.sha, len(keys), *keys, *args)
            pipe.xadd(stream, dict(fields))
            reply, added = pipe.execute(raise_on_error=False)
        except Exception as error:  # redis.RedisError and socket errors
            raise DependencyUnavailable("The spend stream is unavailable.") from error
        if isinstance(added, Exception):
            raise DependencyUnavailable("The spend stream refused the entry.") from added
        if isinstance(reply, Exception):  # e.g. NOSCRIPT after a Redis restart: the entry is
            self._loaded = False  # queued, so settle the counters on their own
            return self._run(scope, args)
        return _decision(reply)

    def _run(self, scope: str, args: list[Any]) -> Decision:
        try:
            reply = self._script(keys=_keys(scope), args=args)
        except Exception as error:  # redis.RedisError and socket errors
            raise DependencyUnavailable("The rate limiter is unavailable.") from error
        return _decision(reply)


def _keys(scope: str) -> list[str]:
    tag = "{" + scope + "}"  # one hash slot per key, for Redis Cluster
    names = ("inflight", "reserved", "rpm", "tpm", "spend")
    return [f"{_PREFIX}:{tag}:{name}" for name in names]


def _decision(reply: Any) -> Decision:
    outcome, requests, tokens, retry = reply
    verdict = _text(outcome)
    return Decision(
        refused=None if verdict == "ok" else verdict,
        requests_in_window=int(float(_text(requests))),
        tokens_in_window=int(float(_text(tokens))),
        retry_after=int(_text(retry)),
    )


def _is_cluster(client: Any) -> bool:
    from redis.cluster import RedisCluster

    return isinstance(client, RedisCluster)


def _limit(value: float | int | None) -> str:
    return "-1" if value is None else repr(float(value))


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
