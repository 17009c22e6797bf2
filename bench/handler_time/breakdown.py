"""Where a handler call's time goes: timers wrapped around the parts of one live instance.

Only inside the bench worker process: each pipeline stage's `before`/`after`, the key lookup
(KeyStore.get, DynamoDB GetItem), the limiter's admit/settle (Redis Lua) and the spend write
(SpendLedger.record, DynamoDB TransactWriteItems) get a timer as an instance attribute; nothing in
the gateway's code changes. A profiler samples only the main thread and sees the key lookup and
the spend write (run in worker threads) as `epoll.poll`; these timers name them.
"""

from __future__ import annotations

import functools
import inspect
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from bench.overhead.stats import summary_ms

Timings = defaultdict[str, list[float]]


def _wrap(owner: Any, method: str, label: str, timings: Timings) -> None:
    original = getattr(owner, method)
    if inspect.iscoroutinefunction(original):

        @functools.wraps(original)
        async def timed_async(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return await original(*args, **kwargs)
            finally:
                timings[label].append(time.perf_counter() - started)

        setattr(owner, method, timed_async)
        return

    @functools.wraps(original)
    def timed(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            timings[label].append(time.perf_counter() - started)

    setattr(owner, method, timed)


def instrument(timings: Timings) -> None:
    """Put timers on the live instance's stages and adapters (idempotent per process)."""
    from completion_api.deps import completion_service
    from gateway.keys.factory import key_store

    service = completion_service()
    for stage in service.stages:
        name = type(stage).__name__
        _wrap(stage, "before", f"{name}.before", timings)
        _wrap(stage, "after", f"{name}.after", timings)
        for attr, methods in (("_limiter", ("admit", "settle")), ("_ledger", ("record",))):
            adapter = getattr(stage, attr, None)
            for method in methods if adapter is not None else ():
                _wrap(adapter, method, f"{name}.{attr[1:]}.{method}", timings)
    _wrap(key_store(), "get", "auth: KeyStore.get (DynamoDB GetItem)", timings)
    _wrap(service.router, "chat", "provider call (ProviderRouter.chat)", timings)


def run(call: Callable[[str], float], texts: dict[str, Callable[[int], str]],
        rounds: int) -> dict[str, Any]:  # fmt: skip
    """Per path: the handler's total and each timed part (p50/mean ms, calls per request)."""
    timings: Timings = defaultdict(list)
    instrument(timings)
    out: dict[str, Any] = {}
    for kind, text in texts.items():
        timings.clear()
        totals = [call(text(i)) for i in range(rounds)]
        parts = {
            label: {**summary_ms(values), "calls_per_request": round(len(values) / rounds, 2)}
            for label, values in sorted(timings.items())
        }
        out[kind] = {"handler_total": summary_ms(totals), "parts": parts}
    return out
