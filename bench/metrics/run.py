"""In-process overhead of the metrics stage against a local Valkey (issue 6: < 1 ms median).

Times MetricsStage.before + after (+ ProviderCallTimer) per request: building the series, one
EVALSHA round trip to Valkey, the JSON request log (written to /dev/null) and, in the "Lambda"
configuration, the EMF line too. Also times a whole CompletionService.handle with and without the
stages (a stage answering like a cache hit, so no provider is involved).

Run: `python -m bench.metrics.run [--requests N]`. Writes bench/results/metrics_stage.{json,md}.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import statistics
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from gateway.auth import Principal
from gateway.catalog import ModelCatalog
from gateway.completions import CompletionService
from gateway.config import parse_config
from gateway.metrics import MetricsStage, ProviderCallTimer
from gateway.metrics.store import MetricsStore, redis_client
from gateway.pipeline import CallContext
from gateway.providers import ProviderResult, ProviderRouter

from devstack.valkey import LocalValkey

RESULTS = Path(__file__).resolve().parents[1] / "results"
ENV = {"OPENAI_API_KEY": "sk-bench"}
_DEPLOYMENT = {"model": "openai/gpt-4o", "api_key": "os.environ/OPENAI_API_KEY"}
CONFIG = parse_config({"model_list": [{"model_name": "gpt-4o", "litellm_params": _DEPLOYMENT}]})
ANSWER = {
    "choices": [{"message": {"content": "hi"}}],
    "usage": {"prompt_tokens": 9, "completion_tokens": 4},
}
NOTES = {
    "cache_status": "MISS",
    "compression": {"original_tokens": 1200, "compressed_tokens": 500, "latency_ms": 40},
}


class Answers:
    async def before(self, ctx: CallContext) -> ProviderResult | None:
        ctx.notes.update(NOTES)
        return ProviderResult(dict(ANSWER), {})

    async def after(self, ctx: CallContext) -> None:
        return None


def _ctx(i: int) -> CallContext:
    principal = Principal(is_master=False, key_alias="bench-key", team_id=f"team-{i % 20}")
    return CallContext(
        "chat", principal, {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}
    )


@contextlib.contextmanager
def _stdout_to_devnull() -> Iterator[None]:
    saved = os.dup(1)
    with open(os.devnull, "wb") as null:
        os.dup2(null.fileno(), 1)
        try:
            yield
        finally:
            os.dup2(saved, 1)
            os.close(saved)


async def _stage_times(stage: MetricsStage, n: int) -> list[float]:
    timer, times = ProviderCallTimer(), []
    for i in range(n):
        ctx = _ctx(i)
        t0 = time.perf_counter()
        await stage.before(ctx)
        await timer.before(ctx)
        took = time.perf_counter() - t0
        ctx.notes.update(NOTES)  # what other stages and the provider would have produced
        ctx.usage = {"prompt_tokens": 9, "completion_tokens": 4, "total_tokens": 13}
        ctx.response = dict(ANSWER)
        t1 = time.perf_counter()
        await timer.after(ctx)
        await stage.after(ctx)
        times.append(took + time.perf_counter() - t1)
    return times


async def _handle_times(service: CompletionService, n: int) -> list[float]:
    times = []
    for i in range(n):
        ctx = _ctx(i)
        t0 = time.perf_counter()
        await service.handle(ctx)
        times.append(time.perf_counter() - t0)
    return times


def _stats(times: list[float]) -> dict[str, float]:
    ordered = sorted(times)
    return {
        "median_us": round(statistics.median(ordered) * 1e6, 1),
        "p95_us": round(ordered[int(len(ordered) * 0.95)] * 1e6, 1),
        "p99_us": round(ordered[int(len(ordered) * 0.99)] * 1e6, 1),
    }


async def _run(url: str, n: int) -> dict[str, Any]:
    def store(name: str) -> MetricsStore:
        return MetricsStore(lambda: redis_client(url, 0.25), prefix=f"bench:{name}")

    client = redis_client(url, 0.25)
    pings = []
    for _ in range(n):
        t0 = time.perf_counter()
        client.ping()
        pings.append(time.perf_counter() - t0)
    catalog, router = ModelCatalog(CONFIG, ENV), ProviderRouter(CONFIG, ENV)
    bare = CompletionService(catalog, router, [Answers()])
    with_metrics = CompletionService(
        catalog, router, [MetricsStage(store("handle")), Answers(), ProviderCallTimer()]
    )
    configs = {
        "stage: Prometheus (Redis) + JSON log": MetricsStage(store("local")),
        "stage: Lambda defaults (+ EMF line)": MetricsStage(store("lambda"), emf_enabled=True),
    }
    results: dict[str, Any] = {"valkey PING round trip": _stats(pings)}
    with _stdout_to_devnull():
        for name, stage in configs.items():
            await _stage_times(stage, 200)  # warm up: script load, connection, caches
            results[name] = _stats(await _stage_times(stage, n))
        await _handle_times(bare, 200)
        await _handle_times(with_metrics, 200)
        results["handle() without metrics stages"] = _stats(await _handle_times(bare, n))
        results["handle() with metrics stages"] = _stats(await _handle_times(with_metrics, n))
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=3000)
    args = parser.parse_args()
    with LocalValkey(with_search=False) as valkey:
        results = asyncio.run(_run(valkey.url, args.requests))
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    RESULTS.mkdir(exist_ok=True)
    out = {"requests": args.requests, "machine": machine, "results": results}
    (RESULTS / "metrics_stage.json").write_text(json.dumps(out, indent=2) + "\n")
    lines = [
        f"Metrics stage overhead, {args.requests} requests each, local Valkey ({machine}).",
        "",
        "| what | median (µs) | p95 (µs) | p99 (µs) |",
        "|---|---|---|---|",
    ]
    for name, s in results.items():
        lines.append(f"| {name} | {s['median_us']} | {s['p95_us']} | {s['p99_us']} |")
    (RESULTS / "metrics_stage.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
