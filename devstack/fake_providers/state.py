"""Per-server mutable state: the fault queue and the call log."""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import asdict, dataclass
from typing import Any

MAX_CALLS = 1000
MAX_DELAY_S = 60.0
FAULT_MODES = ("error", "hang", "malformed", "cut_stream")


@dataclass
class Fault:
    """One queued fault; `times=-1` repeats until reset."""

    status: int = 500
    times: int = 1
    body: Any = None
    delay_s: float = 0.0
    mode: str = "error"
    retry_after: int = 1

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Fault:
        """Validate a control-endpoint payload; raises ValueError."""
        fault = cls(
            status=int(data.get("status", 500)),
            times=int(data.get("times", 1)),
            body=data.get("body"),
            delay_s=min(max(float(data.get("delay_s") or 0.0), 0.0), MAX_DELAY_S),
            mode=str(data.get("mode") or "error"),
            retry_after=int(data.get("retry_after", 1)),
        )
        if fault.mode not in FAULT_MODES:
            raise ValueError(f"mode must be one of {FAULT_MODES}")
        if fault.times == 0 or fault.times < -1:
            raise ValueError("times must be >= 1, or -1 for forever")
        if not 100 <= fault.status <= 599:
            raise ValueError("status must be an HTTP status code")
        return fault


class FakeState:
    """Thread-safe fault queue and bounded call log for one fake server."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._calls: deque[dict[str, Any]] = deque(maxlen=MAX_CALLS)
        self._count = 0
        self.stopping = threading.Event()

    def add_fault(self, fault: Fault) -> None:
        """Queue a fault behind any already queued."""
        with self._lock:
            self._faults.append(fault)

    def take_fault(self) -> Fault | None:
        """Consume one use of the head fault, if any."""
        with self._lock:
            if not self._faults:
                return None
            head = self._faults[0]
            if head.times > 0:
                head.times -= 1
                if head.times == 0:
                    self._faults.pop(0)
            return head

    def faults(self) -> list[dict[str, Any]]:
        """Queued faults as JSON-able dicts."""
        with self._lock:
            return [asdict(f) for f in self._faults]

    def record(self, call: dict[str, Any]) -> None:
        """Append a call record (callers must strip secrets)."""
        with self._lock:
            self._count += 1
            self._calls.append(call)

    def calls(self) -> dict[str, Any]:
        """`{"count": N, "calls": [...]}`, most recent last."""
        with self._lock:
            return {"count": self._count, "calls": list(self._calls)}

    def reset(self) -> None:
        """Clear faults and counters."""
        with self._lock:
            self._faults.clear()
            self._calls.clear()
            self._count = 0
