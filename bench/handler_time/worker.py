"""One measurement process: the completion function's Lambda handler called in process.

`python -m bench.handler_time.worker --out FILE --key-file FILE --pairs FILE --samples N [--seed]`
with the gateway's environment (GATEWAY_CONFIG, REDIS_URL, DYNAMODB_ENDPOINT_URL, ...) set by
bench.handler_time.run. It times `completion_api.app.handler(event, context)` (Mangum +
Powertools: what Lambda bills as Duration) for a cache miss, an exact hit and a semantic hit with a
virtual key, and the cache stage alone (`CacheStage.before`) for the same prompts. With --seed it
first creates the virtual key (keys function handler) and sends each pair's cached prompt once,
so the gateway stores it. Its stdout carries the functions' logs and EMF lines: send it to
/dev/null; results go to --out.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import json
import sys
import time
from pathlib import Path
from typing import Any

from bench.overhead.loadgen import prompt
from bench.overhead.stats import summary_ms
from devstack.stack import ROOT

EVENTS = ROOT / "tests" / "events"
MODEL = "bench-model"
TEAM = "bench-team"


class LambdaContext:
    function_name = "bench-completion"
    memory_limit_in_mb = 1024
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:bench-completion"
    aws_request_id = "bench"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


def event(name: str, body: dict[str, Any], key: str) -> dict[str, Any]:
    out = copy.deepcopy(json.loads((EVENTS / name).read_text()))
    out["body"] = json.dumps(body)
    out["headers"]["Authorization"] = f"Bearer {key}"
    out["multiValueHeaders"]["Authorization"] = [f"Bearer {key}"]
    return out


def chat(text: str) -> dict[str, Any]:
    return {"model": MODEL, "messages": [{"role": "user", "content": text}]}


def create_key(master: str) -> str:
    from keys_api.app import handler

    settings = {
        "key_alias": "bench-handler", "team_id": TEAM, "models": [MODEL],
        "max_budget": 1_000_000.0, "budget_duration": "30d", "rpm_limit": 1_000_000_000,
        "tpm_limit": 1_000_000_000, "max_parallel_requests": 10_000,
    }  # fmt: skip
    reply = handler(event("key_generate.json", settings, master), LambdaContext())
    if reply["statusCode"] != 200:
        raise RuntimeError(f"/key/generate: {reply['statusCode']} {reply['body'][:300]}")
    return str(json.loads(reply["body"])["key"])


def call(handler: Any, text: str, key: str) -> tuple[float, int, str]:
    request = event("chat_completions.json", chat(text), key)  # built outside the timed call
    started = time.perf_counter()
    reply = handler(request, LambdaContext())
    elapsed = time.perf_counter() - started
    headers = {k.lower(): v for k, v in (reply.get("headers") or {}).items()}
    return elapsed, int(reply["statusCode"]), str(headers.get("x-cache-status", "-"))


def cache_stage() -> Any:
    from completion_api.deps import completion_service
    from gateway.cache.stage import CacheStage

    return next(s for s in completion_service().stages if isinstance(s, CacheStage))


def stage_call(stage: Any, text: str) -> tuple[float, str]:
    from gateway.auth import Principal
    from gateway.pipeline import CallContext

    ctx = CallContext("chat", Principal(is_master=False, team_id=TEAM), chat(text), {})
    loop = asyncio.get_event_loop()  # Mangum's loop: the stage keeps one store per loop
    started = time.perf_counter()
    loop.run_until_complete(stage.before(ctx))
    return time.perf_counter() - started, str(ctx.notes.get("cache_status", "-"))


def measure(args: argparse.Namespace) -> dict[str, Any]:
    import os

    from completion_api.app import handler

    pairs: list[list[str]] = json.loads(Path(args.pairs).read_text())
    key_file = Path(args.key_file)
    if args.seed or not key_file.exists():
        key_file.write_text(create_key(os.environ["LITELLM_MASTER_KEY"]))
    key = key_file.read_text().strip()
    seeded: dict[str, int] = {}
    master = os.environ["LITELLM_MASTER_KEY"]
    if args.seed:
        for cached, _ in pairs:
            for who, caller in (("key", key), ("master", master)):
                _, status, cache_status = call(handler, cached, caller)
                name = f"{who} {status}:{cache_status}"
                seeded[name] = seeded.get(name, 0) + 1
    kinds = {
        "miss": "MISS", "exact_hit": "HIT", "semantic_hit": "SEMANTIC_HIT",
        "exact_hit_master_key": "HIT",
    }  # fmt: skip
    handler_s: dict[str, list[float]] = {k: [] for k in kinds}
    stage_s: dict[str, list[float]] = {k: [] for k in kinds if "master" not in k}
    seen: dict[str, int] = {}
    stage = cache_stage()
    warmup = 5
    for round_ in range(args.samples + warmup):
        cached, paraphrase = pairs[round_ % len(pairs)]
        texts = {
            "miss": prompt(f"handler-{args.tag}", round_),
            "exact_hit": cached,
            "semantic_hit": paraphrase,
            "exact_hit_master_key": cached,
        }
        for kind, text in texts.items():
            caller = master if kind == "exact_hit_master_key" else key
            elapsed, status, cache_status = call(handler, text, caller)
            seen[f"handler {kind}: {status} {cache_status}"] = (
                seen.get(f"handler {kind}: {status} {cache_status}", 0) + 1
            )
            if round_ >= warmup and status == 200 and cache_status == kinds[kind]:
                handler_s[kind].append(elapsed)
            if kind == "exact_hit_master_key":
                continue  # the stage alone does not see the key
            if kind == "miss":
                text = prompt(f"stage-{args.tag}", round_)  # the handler stored its own
            elapsed, cache_status = stage_call(stage, text)
            seen[f"stage {kind}: {cache_status}"] = seen.get(f"stage {kind}: {cache_status}", 0) + 1
            if round_ >= warmup and cache_status == kinds[kind]:
                stage_s[kind].append(elapsed)
    parts = breakdown(handler, key, pairs, args.tag) if args.breakdown else {}
    if args.profile_dir:
        profile(handler, key, pairs, Path(args.profile_dir), args.tag)
    return {
        "breakdown": parts,
        "handler": {k: summary_ms(v) for k, v in handler_s.items()},
        "cache_stage": {k: summary_ms(v) for k, v in stage_s.items()},
        "statuses": seen,
        "seeded": seeded,
        "litellm_imported": "litellm" in sys.modules,
    }


def paths(pairs: list[list[str]], tag: str) -> dict[str, Any]:
    """Prompt makers for the three paths (a fresh word salad per call for the miss)."""
    return {
        "miss": lambda i: prompt(tag, i),
        "exact_hit": lambda i: pairs[i % len(pairs)][0],
        "semantic_hit": lambda i: pairs[i % len(pairs)][1],
    }


def breakdown(handler: Any, key: str, pairs: list[list[str]], tag: str) -> dict[str, Any]:
    from bench.handler_time import breakdown as parts

    return parts.run(lambda text: call(handler, text, key)[0], paths(pairs, f"bd-{tag}"), 60)


def profile(handler: Any, key: str, pairs: list[list[str]], out: Path, tag: str) -> None:
    """pyinstrument profiles of 60 handler calls per path (virtual key): call tree and the
    functions by self time, as text (the HTML renderings are megabytes)."""
    from pyinstrument import Profiler

    out.mkdir(parents=True, exist_ok=True)
    for kind, text in paths(pairs, f"profile-{tag}").items():
        profiler = Profiler(interval=0.0005, async_mode="disabled")
        profiler.start()
        for i in range(60):
            call(handler, text(i), key)
        profiler.stop()
        name = f"handler_{kind}_{tag}"
        tree = profiler.output_text(unicode=True, color=False, show_all=False)
        # Self time by function, library frames included: what dominates.
        flat = "\n".join(
            profiler.output_text(unicode=True, show_all=True, flat=True).splitlines()[:70]
        )
        (out / f"{name}.txt").write_text(tree + "\n\nTop functions by self time:\n" + flat)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("--key-file", required=True)
    parser.add_argument("--pairs", required=True, help="JSON [[cached, paraphrase], ...]")
    parser.add_argument("--samples", type=int, default=100)
    parser.add_argument("--seed", action="store_true")
    parser.add_argument("--tag", default="0")
    parser.add_argument("--profile-dir", help="also write pyinstrument profiles here")
    parser.add_argument("--breakdown", action="store_true", help="time each stage and adapter")
    args = parser.parse_args(argv)
    result = measure(args)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
