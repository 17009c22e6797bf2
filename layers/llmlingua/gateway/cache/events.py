"""Cache events as counters: a tiny hook the metrics stage (issue 6) can subscribe to.

`count("redis_error")` increments an in-process counter and calls every listener; listeners
must be cheap and never raise into the request path (errors are swallowed here).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

Listener = Callable[[str, int], None]

counters: Counter[str] = Counter()
_listeners: list[Listener] = []

# Event names: lookup_error, store_error, breaker_open, embed_error, corrupt_entry,
# index_created, search_unavailable, guard_rejected.<reason>, semantic_candidate


def count(event: str, value: int = 1) -> None:
    counters[event] += value
    for listener in tuple(_listeners):
        try:
            listener(event, value)
        except Exception:  # noqa: BLE001, S112 - a metrics hook must not fail a request
            continue


def subscribe(listener: Listener) -> None:
    if listener not in _listeners:
        _listeners.append(listener)


def unsubscribe(listener: Listener) -> None:
    if listener in _listeners:
        _listeners.remove(listener)
