"""LiteLLM's duration strings: `30s`, `30m`, `30h`, `30d` and `1mo` (calendar months).

Used for key expiry (`duration`) and budget windows (`budget_duration`). Budget windows reset
lazily: nothing runs on a schedule; whoever next touches the key moves the window forward.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, datetime

_PATTERN = re.compile(r"^([1-9][0-9]{0,5})(s|m|h|d|mo)$")
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_MAX_SECONDS = 100 * 366 * 86400  # a century: anything longer is a typo


@dataclass(frozen=True)
class Duration:
    amount: int
    unit: str

    def __str__(self) -> str:
        return f"{self.amount}{self.unit}"

    def after(self, start: float) -> float:
        """The epoch time one duration after `start` (epoch seconds)."""
        if self.unit != "mo":
            return start + self.amount * _SECONDS[self.unit]
        moment = datetime.fromtimestamp(start, UTC)
        months = moment.month - 1 + self.amount
        year, month = moment.year + months // 12, months % 12 + 1
        day = min(moment.day, calendar.monthrange(year, month)[1])
        return moment.replace(year=year, month=month, day=day).timestamp()

    def next_reset(self, anchor: float, now: float) -> float:
        """The first window boundary `anchor + k * duration` strictly after `now` (k >= 1)."""
        if self.unit != "mo":
            step = self.amount * _SECONDS[self.unit]
            periods = max(int((now - anchor) // step) + 1, 1)
            return anchor + periods * step
        boundary = self.after(anchor)
        while boundary <= now:
            boundary = self.after(boundary)
        return boundary


def parse_duration(text: str) -> Duration:
    """`Duration` of a string like `30d`; ValueError for anything else."""
    match = _PATTERN.match(text.strip()) if isinstance(text, str) else None
    if match is None:
        raise ValueError(f"invalid duration {text!r}: use e.g. 30s, 30m, 30h, 30d or 1mo")
    duration = Duration(int(match.group(1)), match.group(2))
    seconds = duration.amount * (31 * 86400 if duration.unit == "mo" else _SECONDS[duration.unit])
    if seconds > _MAX_SECONDS:
        raise ValueError(f"duration {text!r} is longer than a century")
    return duration


def iso(epoch: float | None) -> str | None:
    """An epoch time as an ISO-8601 UTC string (`...Z`), or None."""
    if epoch is None:
        return None
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
