"""The spend flusher: persists the spend stream (gateway.spend_outbox) to DynamoDB.

Reads with a consumer group (XREADGROUP), so any number of flushers (the scheduled
SpendFlushFunction, the keys function's read-your-writes drain, devstack's thread) share the
work. Each entry is written with the idempotent `SpendLedger.record`, then XACK + XDEL. A write
that fails every retry stays pending in the group and is claimed again (XAUTOCLAIM) once it has
been idle for `claim_idle_ms`, by this or any other flusher: the stream is the outbox. An entry
delivered more than MAX_DELIVERIES times moves to a dead-letter stream (never dropped).
Entries a dead consumer left pending are claimed the same way. Processing an entry twice (two
flushers racing over a claim) is safe: the second write finds the log and is a "duplicate".
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from gateway.observability import logger
from gateway.spend import SpendEntry, SpendLedger, SpendWriteFailed
from gateway.spend_outbox import GROUP, decode

_PROCESS_CONSUMER = f"{os.getpid()}-{uuid.uuid4().hex[:12]}"  # one per process, not per call
MAX_DELIVERIES = 20  # then the entry goes to the dead-letter stream (see _without_poison)


@dataclass
class FlushStats:
    written: int = 0  # "recorded" or "log_only"
    duplicates: int = 0
    failed: int = 0  # left pending for a later run
    malformed: int = 0  # undecodable or dead-lettered

    def add(self, other: FlushStats) -> None:
        self.written += other.written
        self.duplicates += other.duplicates
        self.failed += other.failed
        self.malformed += other.malformed

    @property
    def handled(self) -> int:
        return self.written + self.duplicates + self.malformed


class SpendFlusher:
    def __init__(
        self,
        client: Any,
        ledger: SpendLedger,
        stream: str,
        *,
        consumer: str | None = None,
        claim_idle_ms: int = 30_000,
        batch: int = 100,
        workers: int = 8,
    ) -> None:
        self._client = client
        self._ledger = ledger
        self._stream = stream
        self._consumer = consumer or _PROCESS_CONSUMER
        self._claim_idle_ms = claim_idle_ms
        self._batch = batch
        self._group_ready = False
        self._workers = workers

    def drain(self, claim_idle_ms: int | None = None, max_entries: int = 10_000) -> FlushStats:
        """Persist what is in the stream now: entries pending longer than `claim_idle_ms`
        (0: everything pending, other consumers' included), then everything not yet delivered.
        Stops at a batch that made no progress (DynamoDB is likely down: the rest waits)."""
        self._ensure_group()
        idle = self._claim_idle_ms if claim_idle_ms is None else claim_idle_ms
        stats = self._claim(idle, max_entries)
        while stats.handled < max_entries:
            batch = self._read(block_ms=None)
            if not batch:
                break
            done = self._process(batch)
            stats.add(done)
            if done.failed and not done.handled:
                break
        return stats

    def run(self, should_stop: Callable[[], bool], block_ms: int = 1000) -> FlushStats:
        """Drain, then wait for new entries (XREADGROUP BLOCK) until `should_stop()`; claims
        stale pending entries again every `claim_idle_ms`."""
        stats = self.drain()
        next_claim = time.monotonic() + self._claim_idle_ms / 1000
        while not should_stop():
            if time.monotonic() >= next_claim:
                stats.add(self._claim(self._claim_idle_ms, 10_000))
                next_claim = time.monotonic() + self._claim_idle_ms / 1000
            batch = self._read(block_ms=block_ms)
            if batch:
                stats.add(self._process(batch))
        return stats

    def backlog(self) -> dict[str, float]:
        """Entries not yet persisted and the age of the oldest (acknowledged entries are
        deleted, so the stream holds exactly the backlog)."""
        length = int(self._client.xlen(self._stream))
        oldest = self._client.xrange(self._stream, count=1)
        age = 0.0
        if oldest:
            millis = int(_text(oldest[0][0]).split("-")[0])
            seconds, micros = self._client.time()
            age = max(seconds + micros / 1e6 - millis / 1000, 0.0)
        return {"spend_backlog_entries": length, "spend_backlog_oldest_seconds": round(age, 3)}

    def prune_consumers(self, idle_ms: int = 3_600_000) -> int:
        """Forget consumers (gone Lambda instances) idle for `idle_ms` with nothing pending."""
        self._ensure_group()
        gone = [
            _text(c["name"])
            for c in self._client.xinfo_consumers(self._stream, GROUP)
            if int(c["pending"]) == 0 and int(c["idle"]) >= idle_ms
        ]
        for name in gone:
            self._client.xgroup_delconsumer(self._stream, GROUP, name)
        return len(gone)

    # -- internals --------------------------------------------------------------------------
    def _ensure_group(self) -> None:
        if self._group_ready:
            return
        try:  # id 0: also deliver entries added before the group existed
            self._client.xgroup_create(self._stream, GROUP, id="0", mkstream=True)
        except Exception as error:  # BUSYGROUP: it exists already
            if "BUSYGROUP" not in str(error):
                raise
        self._group_ready = True

    def _claim(self, idle_ms: int, max_entries: int) -> FlushStats:
        self._ensure_group()
        stats, cursor = FlushStats(), "0-0"
        while stats.handled < max_entries:
            reply = self._client.xautoclaim(
                self._stream, GROUP, self._consumer, idle_ms, start_id=cursor, count=self._batch
            )
            cursor, messages = _text(reply[0]), [(m, f) for m, f in reply[1] if f]
            done = self._process(self._without_poison(messages, stats))
            stats.add(done)
            if (done.failed and not done.handled) or cursor == "0-0":
                break
        return stats

    def _without_poison(
        self, messages: list[tuple[Any, Any]], stats: FlushStats
    ) -> list[tuple[Any, Any]]:
        """Moves entries delivered more than MAX_DELIVERIES times to the dead-letter stream
        `<stream>:dead` (kept, logged at ERROR, replayable with XADD to the stream), so one entry
        DynamoDB always refuses cannot hold up the rest."""
        if not messages:
            return messages
        pending = self._client.xpending_range(
            self._stream,
            GROUP,
            min=messages[0][0],
            max=messages[-1][0],
            count=len(messages),
            consumername=self._consumer,  # just claimed: all of them are this consumer's now
        )
        counts = {_text(p["message_id"]): int(p["times_delivered"]) for p in pending}
        poison, heads = [], set()
        for message_id, fields in messages:
            # Only a key's oldest entry is judged: the ones behind it were held back, not refused.
            try:
                token_id = decode(fields)[0].token_id
            except (ValueError, KeyError, TypeError):
                continue  # _process acknowledges it as malformed
            if token_id not in heads and counts.get(_text(message_id), 0) > MAX_DELIVERIES:
                poison.append((message_id, fields))
            heads.add(token_id)
        for message_id, fields in poison:
            pipe = self._client.pipeline(transaction=True)
            pipe.xadd(self._stream + ":dead", fields)
            pipe.xack(self._stream, GROUP, message_id)
            pipe.xdel(self._stream, message_id)
            pipe.execute()
            logger.error("spend_entry_dead_lettered", extra={"stream_id": _text(message_id)})
            stats.malformed += 1
        dead = {m for m, _ in poison}
        return [(m, f) for m, f in messages if m not in dead]

    def _read(self, block_ms: int | None) -> list[tuple[Any, Any]]:
        reply = self._client.xreadgroup(
            GROUP, self._consumer, {self._stream: ">"}, count=self._batch, block=block_ms
        )
        return [message for _, messages in reply or [] for message in messages]

    def _process(self, messages: list[tuple[Any, Any]]) -> FlushStats:
        """Write a batch: one key's entries in order, different keys in parallel (one key's
        transactions would only conflict with each other); then XACK + XDEL what landed."""
        stats, done = FlushStats(), []
        by_key: dict[str, list[tuple[Any, SpendEntry, float | None]]] = {}
        for message_id, fields in messages:
            try:
                entry, reset_at = decode(fields)
            except (ValueError, KeyError, TypeError):
                logger.error("spend_stream_entry_malformed", extra={"stream_id": _text(message_id)})
                stats.malformed += 1
                done.append(message_id)
                continue
            by_key.setdefault(entry.token_id, []).append((message_id, entry, reset_at))
        groups = list(by_key.values())
        if len(groups) > 1 and self._workers > 1:
            workers = min(self._workers, len(groups))
            with ThreadPoolExecutor(workers, thread_name_prefix="spend-flush") as pool:
                results = list(pool.map(self._write_group, groups))
        else:
            results = [self._write_group(group) for group in groups]
        for group_stats, group_done in results:
            stats.add(group_stats)
            done += group_done
        if done:
            pipe = self._client.pipeline(transaction=False)
            pipe.xack(self._stream, GROUP, *done)
            pipe.xdel(self._stream, *done)
            pipe.execute()
        return stats

    def _write_group(
        self, group: list[tuple[Any, SpendEntry, float | None]]
    ) -> tuple[FlushStats, list[Any]]:
        stats, done = FlushStats(), []
        for message_id, entry, reset_at in group:
            try:
                outcome = self._ledger.record(entry, reset_at)
            except SpendWriteFailed:
                # Stays pending (with the key's later entries): claimed again after
                # claim_idle_ms, by this or another flusher.
                logger.warning("spend_flush_retry_later", extra={"token_id": entry.token_id})
                stats.failed += 1
                break
            if outcome == "duplicate":
                stats.duplicates += 1
            else:
                stats.written += 1
            done.append(message_id)
        return stats, done


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
