"""SpendFlushFunction: runs every minute (EventBridge Scheduler) and keeps draining the spend
stream (XREADGROUP BLOCK) until ~10 s before its timeout, so queued spend reaches DynamoDB
within about a second while one invocation is always running. Consecutive invocations overlap
harmlessly: they share one consumer group, and writes are idempotent."""

from __future__ import annotations

import os
import time
from typing import Any

from gateway.observability import logger
from gateway.spend_factory import spend_flusher

STOP_BEFORE_TIMEOUT_MS = 10_000
BLOCK_MS = 1_000  # below the Redis client's 2 s socket timeout


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    # One consumer per Lambda instance (its log stream is unique); a crashed instance's
    # pending entries are claimed by the next run after SPEND_FLUSH_CLAIM_IDLE_SECONDS.
    consumer = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME") or f"local-{os.getpid()}"
    flusher = spend_flusher(consumer)
    started = time.monotonic()

    def should_stop() -> bool:
        return context.get_remaining_time_in_millis() < STOP_BEFORE_TIMEOUT_MS + BLOCK_MS

    stats = flusher.run(should_stop, block_ms=BLOCK_MS)
    pruned = flusher.prune_consumers()  # consumers of Lambda instances long gone
    summary = {
        "written": stats.written,
        "duplicates": stats.duplicates,
        "failed": stats.failed,
        "malformed": stats.malformed,
        "seconds": round(time.monotonic() - started, 1),
        "consumers_pruned": pruned,
        **flusher.backlog(),
    }
    logger.info("spend_flush_done", extra=summary)  # backlog gauges: metric filters/alarms
    return summary
