"""Percentiles, machine facts and how busy the shared machine was while a bench ran.

The machine is shared with other engineers' test runs. `uptime`'s load average is recorded with
every result (as asked), but it also counts the bench's own processes, so each run also records
`foreign_cpu`: the cores' busy time during the run minus what this process tree used, in cores
(from /proc/stat and /proc/<pid>/stat). A run with foreign_cpu above a threshold was contended.
"""

from __future__ import annotations

import os
import platform
import statistics
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HZ = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def percentile(samples: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of unsorted samples."""
    ordered = sorted(samples)
    if not ordered:
        return float("nan")
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def summary_ms(samples_s: list[float]) -> dict[str, float]:
    """p50/p95/p99/mean/min in milliseconds, and the count."""
    if not samples_s:
        return {"n": 0}
    return {
        "p50_ms": round(percentile(samples_s, 50) * 1000, 3),
        "p95_ms": round(percentile(samples_s, 95) * 1000, 3),
        "p99_ms": round(percentile(samples_s, 99) * 1000, 3),
        "mean_ms": round(statistics.fmean(samples_s) * 1000, 3),
        "min_ms": round(min(samples_s) * 1000, 3),
        "n": len(samples_s),
    }


def median_of(rows: list[dict[str, Any]], key: str) -> float:
    values = [r[key] for r in rows if key in r]
    return round(statistics.median(values), 3) if values else float("nan")


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine() -> dict[str, Any]:
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "arch": platform.machine(),
        "python": platform.python_version(),
        "kernel": platform.release(),
    }


def uptime() -> str:
    """What `uptime` prints for the load: the 1, 5 and 15 minute load averages."""
    one, five, fifteen = os.getloadavg()
    return f"load average: {one:.2f}, {five:.2f}, {fifteen:.2f}"


def _system_busy_ticks() -> int:
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(x) for x in fields[:8])
    return user + nice + system + irq + softirq + steal


def _tree_ticks(root: int) -> int:
    """CPU ticks of `root` and its live descendants, plus what their reaped children used."""
    parents: dict[int, int] = {}
    ticks: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        rest = stat[stat.rindex(")") + 2 :].split()
        parents[int(entry.name)] = int(rest[1])
        # utime, stime, cutime, cstime are fields 14-17 (rest[11:15]).
        ticks[int(entry.name)] = sum(int(x) for x in rest[11:15])
    tree, frontier = {root}, [root]
    while frontier:
        pid = frontier.pop()
        children = [p for p, parent in parents.items() if parent == pid and p not in tree]
        tree.update(children)
        frontier.extend(children)
    return sum(ticks.get(pid, 0) for pid in tree)


@dataclass
class CpuWindow:
    """Busy cores of the machine and of this process tree between start() and stop()."""

    started: float = 0.0
    system0: int = 0
    ours0: int = 0

    def start(self) -> CpuWindow:
        self.started = time.monotonic()
        self.system0, self.ours0 = _system_busy_ticks(), _tree_ticks(os.getpid())
        return self

    def stop(self) -> dict[str, float]:
        elapsed = max(time.monotonic() - self.started, 1e-6)
        system = (_system_busy_ticks() - self.system0) / HZ / elapsed
        ours = (_tree_ticks(os.getpid()) - self.ours0) / HZ / elapsed
        return {
            "busy_cores": round(system, 2),
            "bench_cores": round(ours, 2),
            "foreign_cpu": round(max(system - ours, 0.0), 2),
            "load1": round(os.getloadavg()[0], 2),
        }


def foreign_cpu(seconds: float = 1.0) -> float:
    """Cores used by processes outside this tree over a short idle window."""
    window = CpuWindow().start()
    time.sleep(seconds)
    return window.stop()["foreign_cpu"]


def wait_for_quiet(max_foreign: float, max_load: float, max_wait_s: float) -> dict[str, Any]:
    """Wait (bounded) until other processes use < max_foreign cores and the 1-minute load is
    < max_load; returns what was seen. Our own servers idle meanwhile."""
    deadline = time.monotonic() + max_wait_s
    while True:
        foreign = foreign_cpu(1.0)
        load1 = os.getloadavg()[0]
        quiet = foreign < max_foreign and load1 < max_load
        if quiet or time.monotonic() > deadline:
            return {"quiet": quiet, "foreign_cpu": foreign, "uptime": uptime()}
        time.sleep(4.0)


ROLES = (  # (label, substring of /proc/<pid>/cmdline); first match wins
    ("valkey", "valkey-server"),
    ("moto", "moto"),  # the DynamoDB stand-in (devstack.dynamodb)
    ("gateway", "devstack\0serve"),
    ("litellm proxy", "litellm"),
    ("upstream", "bench.overhead.upstream"),
    ("upstream", "devstack.fake_providers"),
)


def cpu_by_role(root: int | None = None) -> dict[str, int]:
    """CPU ticks (utime + stime) of this tree's long-lived servers, by role."""
    root = root or os.getpid()
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat[stat.rindex(")") + 2 :].split()[1])
    found: dict[str, int] = {}
    for pid in parents:
        ancestor = parents.get(pid)
        while ancestor and ancestor != root:
            ancestor = parents.get(ancestor)
        if ancestor != root:
            continue
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_text()
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        role = next((label for label, part in ROLES if part in cmdline), None)
        if role:
            found[role] = found.get(role, 0) + int(fields[11]) + int(fields[12])
    return found


def cpu_ms_per_request(before: dict[str, int], after: dict[str, int], requests: int) -> dict:
    """Per role: CPU milliseconds per request between two cpu_by_role() snapshots."""
    return {
        role: round((after.get(role, 0) - before.get(role, 0)) / HZ * 1000 / max(requests, 1), 2)
        for role in sorted(set(before) | set(after))
    }
