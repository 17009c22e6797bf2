"""Spend: one DynamoDB transaction per request adds its cost to the key and writes its log.

    TransactWriteItems [
      Put    SpendLogsTable item, if attribute_not_exists(sk)     <- idempotency on request id
      Update KeysTable ADD spend, model_spend.<model> (or, once the budget window is over,
             SET spend = cost and move budget_reset_at: the lazy window reset)
    ]

Both happen or neither does, and a retried write (same request id, same `sk`) finds the log
already there and changes nothing, so spend is never counted twice. Throttling, conflicts with
concurrent transactions on the same key and network errors are retried with jittered
exponential backoff. If every attempt fails the entry is logged in full at ERROR level
(`spend_write_failed`, no secrets or prompt text) for replay; the request itself still succeeds.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, NoReturn

from botocore.exceptions import BotoCoreError, ClientError

from gateway.keys.codec import to_attribute
from gateway.keys.durations import iso, parse_duration
from gateway.observability import logger


@dataclass(frozen=True)
class SpendEntry:
    """What one request cost, as the spend log records it."""

    key_hash: str
    token_id: str
    request_id: str
    started_epoch: float
    ended_epoch: float
    model: str
    provider: str | None
    call_type: str
    cost: Decimal
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cache_status: str | None = None
    compression: Mapping[str, int] = field(default_factory=dict)
    team_id: str | None = None
    user_id: str | None = None
    key_alias: str | None = None
    budget_duration: str | None = None

    @property
    def sk(self) -> str:
        return f"{iso(self.started_epoch)}#{self.request_id}"

    @property
    def cache_hit(self) -> bool:
        return self.cache_status in ("HIT", "SEMANTIC_HIT")

    def log_item(self, retention_days: int) -> dict[str, Any]:
        values: dict[str, Any] = {
            "key_hash": self.key_hash,
            "sk": self.sk,
            "request_id": self.request_id,
            "token_id": self.token_id,
            "team_id": self.team_id,
            "user_id": self.user_id,
            "key_alias": self.key_alias,
            "model": self.model,
            "provider": self.provider,
            "call_type": self.call_type,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "total_tokens": self.prompt_tokens + self.completion_tokens,
            "spend": self.cost,
            "cache_hit": self.cache_hit,
            "cache_status": self.cache_status,
            "start_time": iso(self.started_epoch),
            "end_time": iso(self.ended_epoch),
            "latency_ms": round((self.ended_epoch - self.started_epoch) * 1000),
            "ttl": int(self.ended_epoch + retention_days * 86400),
        }
        if self.compression:
            values["compression"] = dict(self.compression)
        return {name: to_attribute(v) for name, v in values.items() if v is not None}


class SpendWriteFailed(Exception):
    """Every attempt to record one request's spend failed."""


class SpendLedger:
    def __init__(
        self,
        client: Any,
        keys_table: str,
        spend_logs_table: str,
        *,
        retention_days: int = 90,
        attempts: int = 6,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._client = client
        self._keys = keys_table
        self._logs = spend_logs_table
        self._retention_days = retention_days
        self._attempts = attempts
        self._sleep = sleep
        self._clock = clock

    def record(self, entry: SpendEntry, budget_reset_at: float | None) -> str:
        """Write the entry: "recorded", "duplicate" (already written) or "log_only" (the key was
        deleted meanwhile). `budget_reset_at` is the caller's view of the key's budget window."""
        for attempt in range(self._attempts):
            try:
                return self._write(entry, budget_reset_at)
            except _WindowMoved as moved:
                budget_reset_at = moved.reset_at
            except (ClientError, BotoCoreError) as error:
                if attempt + 1 == self._attempts:
                    self._give_up(entry, error)
                self._sleep(min(0.05 * 2**attempt, 1.0) * (0.5 + random.random()))  # noqa: S311
        self._give_up(entry, None)

    def _write(self, entry: SpendEntry, budget_reset_at: float | None) -> str:
        log = {
            "Put": {
                "TableName": self._logs,
                "Item": entry.log_item(self._retention_days),
                "ConditionExpression": "attribute_not_exists(sk)",
            }
        }
        try:
            update = self._key_update(entry, budget_reset_at)
            self._client.transact_write_items(TransactItems=[log, update])
            return "recorded"
        except ClientError as error:
            reasons = [r.get("Code") for r in error.response.get("CancellationReasons") or []]
            if len(reasons) < 2 or "ConditionalCheckFailed" not in reasons:
                raise
            if reasons[0] == "ConditionalCheckFailed":
                return "duplicate"
        # The key update's condition failed: the key is gone, or the window moved.
        key = self._client.get_item(
            TableName=self._keys,
            Key={"key_hash": {"S": entry.key_hash}},
            ProjectionExpression="budget_reset_at",
            ConsistentRead=True,
        ).get("Item")
        if key is None:
            return self._log_only(log)
        reset_at = key.get("budget_reset_at")
        raise _WindowMoved(None if reset_at is None else float(reset_at["N"]))

    def _key_update(self, entry: SpendEntry, reset_at: float | None) -> dict[str, Any]:
        now = self._clock()
        window_over = reset_at is not None and reset_at <= now
        values: dict[str, Any] = {
            ":c": _money(entry.cost),
            ":now": to_attribute(now),
            ":used": to_attribute(iso(now)),
        }
        names = {"#m": entry.model}
        if window_over and entry.budget_duration:
            duration = parse_duration(entry.budget_duration)
            assert reset_at is not None
            values[":next"] = to_attribute(duration.next_reset(reset_at, now))
            values[":ms"] = {"M": {entry.model: _money(entry.cost)}}
            expression = (
                "SET spend = :c, model_spend = :ms, budget_reset_at = :next, last_used_at = :used"
            )
            condition = "attribute_exists(key_hash) AND budget_reset_at <= :now"
            names = {}
        else:
            values[":zero"] = to_attribute(0)
            expression = (
                "ADD spend :c SET model_spend.#m = if_not_exists(model_spend.#m, :zero) + :c, "
                "last_used_at = :used"
            )
            condition = "attribute_exists(key_hash)"
            if entry.budget_duration:
                condition += (
                    " AND (attribute_not_exists(budget_reset_at) OR budget_reset_at > :now)"
                )
            else:
                del values[":now"]
        update: dict[str, Any] = {
            "TableName": self._keys,
            "Key": {"key_hash": {"S": entry.key_hash}},
            "UpdateExpression": expression,
            "ConditionExpression": condition,
            "ExpressionAttributeValues": values,
        }
        if names:
            update["ExpressionAttributeNames"] = names
        return {"Update": update}

    def _log_only(self, log: dict[str, Any]) -> str:
        try:
            self._client.put_item(**log["Put"])
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
            return "duplicate"
        return "log_only"

    def _give_up(self, entry: SpendEntry, error: Exception | None) -> NoReturn:
        item = {k: _plain(v) for k, v in entry.log_item(self._retention_days).items()}
        item.pop("key_hash", None)  # the token id identifies the key; the hash stays private
        logger.error(
            "spend_write_failed",
            extra={"spend_entry": item, "error_type": type(error).__name__ if error else None},
        )
        raise SpendWriteFailed(entry.request_id) from error


class _WindowMoved(Exception):
    def __init__(self, reset_at: float | None) -> None:
        super().__init__("budget window moved")
        self.reset_at = reset_at


def _money(cost: Decimal) -> dict[str, str]:
    """A cost as a DynamoDB number in plain notation: `2E-8` (an embedding of one token) is valid
    for DynamoDB, but moto's ADD cannot parse it and would fail every write of such an entry."""
    return {"N": format(cost, "f")}


def _plain(attribute: Mapping[str, Any]) -> Any:
    ((kind, value),) = attribute.items()
    if kind == "M":
        return {k: _plain(v) for k, v in value.items()}
    return str(value) if kind == "N" else value
