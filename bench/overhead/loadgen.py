"""A bounded async load generator (httpx, loopback only), run in its own process.

`python -m bench.overhead.loadgen --url URL --key KEY --concurrency C --requests N` sends N
chat completions with C in flight (C = 1: N sequential requests), after `--warmup` unmeasured
ones, and prints one JSON line: per-request latencies (s), wall time of the measured phase,
HTTP statuses and the gateway's `x-cache-status` values. Each request has its own prompt (a
seeded word salad plus its tag and index), so a caching gateway misses every time. Bounded in
count and in time (`--time-limit`): it stops by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import time
from collections import Counter
from typing import Any
from urllib.parse import urlsplit

import httpx

WORDS = (  # noqa: SIM905 - a word list reads better as text
    "amber anchor apple arrow aspen autumn badge bakery balcony bamboo banner barley basil "
    "beacon beetle bicycle blossom bramble bridge brook buffalo cabin cactus canal candle "
    "canyon carbon cargo carpet castle cedar cellar cherry chimney cinder citrus clover "
    "cobalt comet copper coral cotton crater cricket crystal cypress dahlia delta desert "
    "dolphin dragon ember falcon fennel fern fiddle flannel forest fossil fountain galaxy "
    "garnet geyser ginger glacier granite gravel harbor hazel heron hickory honey horizon "
    "indigo island ivory jasmine jungle kettle lagoon lantern lava lemon lilac linen lobster "
    "maple marble meadow mercury meteor mint mosaic mustard nectar nickel nutmeg oasis "
    "obsidian ocean olive onyx orchard orchid otter oyster paddle papaya pebble pepper "
    "pigeon pine plaza pollen poppy prairie quartz quill rabbit radish raven reef ribbon "
    "river rocket saffron salmon sapphire satin scarlet sequoia shadow sierra silver sparrow "
    "spruce summit tangerine thistle thunder tiger timber topaz tulip tundra turtle umber "
    "valley velvet violet walnut willow wolf yarrow zephyr"
).split()


def prompt(tag: str, index: int) -> str:
    rng = random.Random(f"{tag}:{index}")  # noqa: S311 - prompt text, not security
    words = " ".join(rng.sample(WORDS, 10))
    return f"Request {tag}/{index}. In one word, which of these is heaviest: {words}?"


def body(model: str, tag: str, index: int) -> dict[str, Any]:
    return {"model": model, "messages": [{"role": "user", "content": prompt(tag, index)}]}


async def run(args: argparse.Namespace) -> dict[str, Any]:
    host = urlsplit(args.url).hostname
    if host not in ("127.0.0.1", "localhost", "::1"):
        raise SystemExit(f"loopback targets only, not {host!r}")
    headers = {"Authorization": f"Bearer {args.key}"}
    limits = httpx.Limits(
        max_connections=args.concurrency, max_keepalive_connections=args.concurrency
    )
    latencies: list[float] = []
    statuses: Counter[str] = Counter()
    cache: Counter[str] = Counter()
    async with httpx.AsyncClient(headers=headers, limits=limits, timeout=args.timeout) as client:
        deadline = time.monotonic() + args.time_limit

        async def phase(indexes: range, record: bool) -> None:
            counter = iter(indexes)

            async def worker() -> None:
                for index in counter:
                    if time.monotonic() > deadline:
                        return
                    started = time.perf_counter()
                    try:
                        reply = await client.post(args.url, json=body(args.model, args.tag, index))
                        await reply.aread()
                        status = str(reply.status_code)
                        cache_status = reply.headers.get("x-cache-status", "-")
                    except httpx.HTTPError as error:
                        status, cache_status = type(error).__name__, "-"
                    elapsed = time.perf_counter() - started
                    if record:
                        latencies.append(elapsed)
                        statuses[status] += 1
                        cache[cache_status] += 1

            await asyncio.gather(*(worker() for _ in range(args.concurrency)))

        await phase(range(args.warmup), record=False)
        started = time.perf_counter()
        await phase(range(args.warmup, args.warmup + args.requests), record=True)
        wall = time.perf_counter() - started
    return {
        "concurrency": args.concurrency,
        "requested": args.requests,
        "completed": len(latencies),
        "wall_s": wall,
        "timed_out": len(latencies) < args.requests,
        "latencies_s": latencies,
        "statuses": dict(statuses),
        "cache_status": dict(cache),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="the chat completions URL (loopback)")
    parser.add_argument("--key", default="sk-bench")
    parser.add_argument("--model", default="bench-model")
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--time-limit", type=float, default=120.0)
    parser.add_argument("--timeout", type=float, default=30.0)
    parser.add_argument("--tag", default="r0")
    args = parser.parse_args(argv)
    result = asyncio.run(run(args))
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
