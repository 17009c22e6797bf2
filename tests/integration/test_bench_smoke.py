"""Smoke test of the overhead bench (bench/overhead): quick mode against the raw upstream and
this gateway (local stack, virtual key), a handful of requests. It checks that the bench runs
end to end and writes well-formed results; it asserts nothing about timings."""

from __future__ import annotations

import json
from pathlib import Path

from bench.overhead import run


def test_overhead_bench_quick_writes_well_formed_results(tmp_path: Path) -> None:
    # Given the quick mode against the upstream and the gateway only (not the LiteLLM proxy)
    argv = ["--quick", "--targets", "direct,gateway", "--concurrency", "1", "8", "--requests",
            "8", "--requests-c1", "8", "--results-dir", str(tmp_path), "--no-report"]  # fmt: skip

    # When the bench runs
    assert run.main(argv) == 0

    # Then it wrote a JSON report with a cell per target and concurrency, and its Markdown
    report = json.loads((tmp_path / "overhead.json").read_text())
    assert set(report["table"]) == {"direct@1", "gateway@1", "direct@8", "gateway@8"}
    for name, cell in report["table"].items():
        for key in ("p50_ms", "p95_ms", "p99_ms", "throughput_rps"):
            assert isinstance(cell[key], int | float) and cell[key] >= 0, (name, key)
        assert cell["errors"] == 0, name
        if name.startswith("gateway"):
            assert {"added_p50_ms", "added_p95_ms", "added_p99_ms"} <= set(cell)
    runs = report["runs"]
    assert len(runs) == 4
    assert all(r["statuses"] == {"200": 8} for r in runs)
    gateway_runs = [r for r in runs if r["target"] == "gateway"]
    assert all(set(r["cache_status"]) <= {"MISS", "BYPASS"} for r in gateway_runs)
    assert all(r["cpu"]["busy_cores"] >= 0 and "load average" in r["uptime"] for r in runs)
    assert {v["what"] for v in report["verdicts"]} >= {"added latency, cache miss, c=1, p50"}
    assert "| target (issue 7) |" in (tmp_path / "overhead.md").read_text()
