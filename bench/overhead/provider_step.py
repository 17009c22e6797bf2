"""Time of the provider step alone: `ProviderRouter.chat` in-process against a raw upstream.

    python -m bench.overhead.upstream --port 18999 &
    python -m bench.overhead.provider_step --upstream http://127.0.0.1:18999/v1 --mode passthrough

Modes: `litellm` (the Router as configured in production), `litellm-lean` (the Router with
litellm's logging and cost work turned down as far as its settings allow) and `passthrough` (the
gateway's own OpenAI-wire client). Prints p50/p95 wall ms and CPU ms per call (the upstream
runs in another process, so CPU time here is the gateway's own work).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import time
from typing import Any

from gateway.config import parse_config
from gateway.providers import ProviderRouter


def _config(upstream: str, mode: str) -> Any:
    deployment = {
        "model_name": "gpt-4o-mini",
        "litellm_params": {
            "model": "openai/gpt-4o-mini",
            "api_key": "sk-bench",
            "api_base": upstream,
        },
    }
    return parse_config(
        {
            "model_list": [deployment],
            "router_settings": {"routing_strategy": "simple-shuffle", "num_retries": 3},
            "general_settings": {"passthrough": mode == "passthrough"},
        }
    )


def _lean_litellm() -> None:
    import litellm

    litellm.logging = False
    litellm.turn_off_message_logging = True
    litellm.disable_streaming_logging = True
    litellm.disable_token_counter = True
    litellm.disable_end_user_cost_tracking = True
    litellm.success_callback = []
    litellm.failure_callback = []
    litellm.callbacks = []
    litellm.suppress_debug_info = True


async def _run(router: ProviderRouter, calls: int, warmup: int) -> dict[str, float]:
    params = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}
    for _ in range(warmup):
        await router.chat(dict(params))
    wall: list[float] = []
    cpu: list[float] = []
    for _ in range(calls):
        w0, c0 = time.perf_counter(), time.process_time()
        await router.chat(dict(params))
        wall.append(time.perf_counter() - w0)
        cpu.append(time.process_time() - c0)
    wall.sort()
    return {
        "calls": calls,
        "p50_ms": round(statistics.median(wall) * 1000, 3),
        "p95_ms": round(wall[int(len(wall) * 0.95) - 1] * 1000, 3),
        "cpu_ms_per_call": round(sum(cpu) / len(cpu) * 1000, 3),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--upstream", required=True, help="e.g. http://127.0.0.1:18999/v1")
    parser.add_argument("--mode", choices=["litellm", "litellm-lean", "passthrough"])
    parser.add_argument("--calls", type=int, default=400)
    parser.add_argument("--warmup", type=int, default=50)
    args = parser.parse_args(argv)
    for name, value in (("LITELLM_LOCAL_MODEL_COST_MAP", "True"), ("HF_HUB_OFFLINE", "1")):
        os.environ.setdefault(name, value)
    router = ProviderRouter(_config(args.upstream, args.mode), os.environ)
    if args.mode == "litellm-lean":
        router._get_router()  # noqa: SLF001 - build it, then turn litellm's extras down
        _lean_litellm()
    result = asyncio.run(_run(router, args.calls, args.warmup))
    print(json.dumps({"mode": args.mode, **result, "loadavg": os.getloadavg()[0]}))


if __name__ == "__main__":
    main()
