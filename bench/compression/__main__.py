"""`make bench-compression` (runs in .venv-ml): LLMLingua-2 latency and achieved ratio for
500-8,000-token prompts on this CPU, engine cold start, HTTP overhead, and the break-even.

The model is a RANDOMLY INITIALISED bert-base-shaped token classifier (PLUMBING ONLY): it times
like the trained model (same shapes, same code path) but its ratios say nothing about quality.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.compression.breakeven import analyse
from bench.compression.prompts import prose
from bench.compression.report import write_markdown

SIZES = (500, 1000, 2000, 4000, 8000)
RATE = 0.5
FORCE = ["\n", "?"]


def _cpu() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor()


def cold_starts(model: Path, runs: int) -> list[dict[str, Any]]:
    results = []
    for _ in range(runs):
        out = subprocess.run(  # noqa: S603 - our own module
            [sys.executable, "-m", "bench.compression.coldstart", str(model)],
            check=True,
            capture_output=True,
            text=True,
            env=os.environ,
        )
        results.append(json.loads(out.stdout.strip().splitlines()[-1]))
    return results


def latencies(model: Path, reps: int) -> tuple[list[dict[str, Any]], int]:
    import torch
    from gateway.compression.engine_inprocess import InProcessEngine
    from gateway.compression.tokens import token_counter

    count = token_counter().count
    engine = InProcessEngine(model)
    engine.load()
    engine.compress_sync([prose(500, count, seed=99)], RATE, FORCE)  # warm-up
    rows = []
    for size in SIZES:
        text = prose(size, count, seed=size)
        tokens = count(text)
        times, cpus, kept = [], [], []
        for _ in range(reps):
            started, cpu_started = time.perf_counter(), time.process_time()
            (compressed,) = engine.compress_sync([text], RATE, FORCE)
            times.append(time.perf_counter() - started)
            cpus.append(time.process_time() - cpu_started)
            kept.append(count(compressed))
        median = statistics.median(times)
        rows.append(
            {
                "prompt_tokens": tokens,
                "median_ms": median * 1000,
                "min_ms": min(times) * 1000,
                # CPU time of all threads: unlike wall time, not inflated by other processes.
                "cpu_ms": statistics.median(cpus) * 1000,
                "cpu_ms_per_1k_tokens": statistics.median(cpus) * 1000 / tokens * 1000,
                "ms_per_1k_tokens": median * 1000 / tokens * 1000,
                "compressed_tokens": int(statistics.median(kept)),
                "achieved_ratio": statistics.median(kept) / tokens,
                "reps": reps,
            }
        )
        print(
            f"{tokens:>6} tokens: {median * 1000:8.0f} ms  ratio {rows[-1]['achieved_ratio']:.2f}",
            file=sys.stderr,
            flush=True,
        )
    return rows, torch.get_num_threads()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.compression")
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--out", type=Path, default=Path("bench/compression/results"))
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--cold-runs", type=int, default=2)
    args = parser.parse_args(argv)
    colds = cold_starts(args.model, args.cold_runs)
    rows, threads = latencies(args.model, args.reps)
    big = [r for r in rows if r["prompt_tokens"] >= 1000]
    per_1k = statistics.median(r["ms_per_1k_tokens"] for r in big)
    # The machine is shared (other test suites run beside the bench), so wall times are inflated.
    # CPU time is not: spread over the torch threads it estimates the undisturbed wall time.
    cpu_per_1k = statistics.median(r["cpu_ms_per_1k_tokens"] for r in big)
    undisturbed_per_1k = cpu_per_1k / threads
    results = {
        "label": "PLUMBING ONLY: random-weight bert-base-shaped model; latency is real, ratios "
        "say nothing about quality",
        "machine": {
            "cpu": _cpu(),
            "cores": os.cpu_count(),
            "torch_threads": threads,
            "python": platform.python_version(),
        },
        "model": args.model.name,
        "rate": RATE,
        "cold_start": colds,
        "latency": rows,
        "median_ms_per_1k_tokens": per_1k,
        "cpu_ms_per_1k_tokens": cpu_per_1k,
        "undisturbed_ms_per_1k_tokens": undisturbed_per_1k,
        "load_average_1m_at_end": os.getloadavg()[0],
        "break_even": analyse(undisturbed_per_1k / 1000, threads, RATE),
        "break_even_as_measured": analyse(per_1k / 1000, threads, RATE),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "compression.json").write_text(json.dumps(results, indent=2))
    write_markdown(results, args.out / "compression.md")
    print(f"wrote {args.out}/compression.json and compression.md", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
