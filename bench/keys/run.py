"""Virtual keys (issue 3): what the per-request key read, the limits script and the spend write
cost on the local stack, the keys function's cold import, and the revocation gap.

- key read: `GetItem(ConsistentRead=True)` on the moto server, as every virtual-key request
  does instead of caching keys in process (that is what makes revocation immediate).
- limits: one admit + one settle of the Lua script on a local Valkey.
- spend write: the TransactWriteItems (spend log Put + key spend ADD) on the moto server.
- end to end: median latency of a completion through one gateway process (fake provider) with
  the master key (no key stage work) and with a limited virtual key.
- revocation: after /key/delete answers, how many further requests on another gateway process
  still succeed (the claim is zero) and the time from the delete's answer to the first 401.
- cold import of `keys_api.app` in fresh interpreters (litellm must stay out).

Run: `python -m bench.keys.run [--samples N]`. Writes bench/results/keys.{json,md}.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import redis
from gateway.keys.model import KeyRecord
from gateway.keys.store import KeyStore
from gateway.limits import Limiter, Limits
from gateway.spend import SpendEntry, SpendLedger

from devstack.dynamodb import dynamodb_client
from devstack.stack import ROOT, LocalStack
from tests.integration.stack import PYTHONPATH, GatewayProcess

RESULTS = ROOT / "bench" / "results"
MASTER = "sk-bench-master-key-000000"
CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "bench"}]}


def _ms(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50_ms": round(statistics.median(ordered) * 1000, 2),
        "p95_ms": round(ordered[int(len(ordered) * 0.95) - 1] * 1000, 2),
        "n": len(ordered),
    }


def timed(action: Any, samples: int, warmup: int = 0) -> list[float]:
    for n in range(warmup):  # warm connections and code paths, untimed
        action(n)
    times = []
    for n in range(samples):
        started = time.perf_counter()
        action(n)
        times.append(time.perf_counter() - started)
    return times


def adapters(stack: LocalStack, samples: int) -> dict[str, Any]:
    client = dynamodb_client(stack.env["DYNAMODB_ENDPOINT_URL"])
    store = KeyStore(client, stack.env["KEYS_TABLE"])
    record = KeyRecord(key_hash="b" * 64, token_id="c" * 32, key_name="sk-...bench",
                       created_at="c", updated_at="u")  # fmt: skip
    store.create(record)
    limiter = Limiter(redis.Redis.from_url(stack.env["REDIS_URL"]))
    limits = Limits(max_budget=1e6, rpm=10**9, tpm=10**9, max_parallel=1000)
    ledger = SpendLedger(client, stack.env["KEYS_TABLE"], stack.env["SPEND_LOGS_TABLE"])

    def spend(n: int) -> None:
        entry = SpendEntry(key_hash=record.key_hash, token_id=record.token_id,
                           request_id=f"bench-{n}", started_epoch=time.time(),
                           ended_epoch=time.time(), model="gpt-4o-mini", provider="openai",
                           call_type="chat", cost=Decimal("0.00000105"))  # fmt: skip
        ledger.record(entry, None)

    def limits_round_trip(n: int) -> None:
        limiter.admit(record.token_id, f"r{n}", limits, 0.001, 100)
        limiter.settle(record.token_id, f"r{n}", 120, limits)

    return {
        "key_read_getitem_consistent": _ms(timed(lambda _: store.get(record.key_hash), samples)),
        "limits_admit_plus_settle": _ms(timed(limits_round_trip, samples)),
        "spend_transaction": _ms(timed(spend, samples)),
    }


def stage_in_process(stack: LocalStack, samples: int) -> dict[str, Any]:
    """The key stage alone: auth read, before (admit), after (settle + spend transaction)."""
    os.environ.update(stack.env)
    from gateway.auth import Principal
    from gateway.keys.factory import key_store, virtual_key_stage
    from gateway.pipeline import CallContext

    record = KeyRecord(key_hash="d" * 64, token_id="e" * 32, key_name="sk-...st", created_at="c",
                       updated_at="u", rpm_limit=10**6, tpm_limit=10**9,
                       max_budget=Decimal(1000), max_parallel_requests=100)  # fmt: skip
    key_store().create(record)
    stage = virtual_key_stage()
    phases: dict[str, list[float]] = {"auth_read": [], "before": [], "after": []}

    async def one(n: int) -> None:
        started = time.perf_counter()
        stored = key_store().get(record.key_hash)
        read = time.perf_counter()
        principal = Principal(is_master=False, key=stored, key_hash=record.key_hash)
        messages = [{"role": "user", "content": f"stage {n}"}]
        ctx = CallContext("chat", principal, {"model": "gpt-4o-mini", "messages": messages})
        ctx.provider = "openai"
        await stage.before(ctx)
        admitted = time.perf_counter()
        ctx.usage = {"prompt_tokens": 9, "completion_tokens": 4, "total_tokens": 13}
        await stage.after(ctx)
        done = time.perf_counter()
        for name, value in zip(
            phases, (read - started, admitted - read, done - admitted), strict=True
        ):
            phases[name].append(value)

    for n in range(samples):
        asyncio.run(one(n))
    return {name: _ms(values) for name, values in phases.items()}


def end_to_end(stack: LocalStack, samples: int) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix="bench-keys-"))
    gateways = [GatewayProcess(stack.env, workdir / f"g{n}.log").start() for n in range(2)]
    try:
        admin = {"Authorization": f"Bearer {MASTER}"}
        for gateway in gateways:  # import litellm before timing
            httpx.post(gateway.url + "/v1/chat/completions", json=CHAT, headers=admin, timeout=120)
        body = {
            "rpm_limit": 10**6,
            "tpm_limit": 10**9,
            "max_budget": 1000.0,
            "max_parallel_requests": 100,
        }
        key = httpx.post(gateways[0].url + "/key/generate", json=body, headers=admin).json()
        tenant = {"Authorization": f"Bearer {key['key']}"}

        def call(headers: dict[str, str], tag: str) -> Any:
            def one(n: int) -> Any:  # a new prompt each time: no cache hits
                body = {**CHAT, "messages": [{"role": "user", "content": f"bench {tag} {n}"}]}
                url = gateways[0].url + "/v1/chat/completions"
                return httpx.post(url, json=body, headers=headers, timeout=60)

            return one

        timed(call(tenant, "warm"), 5)
        master_times = timed(call(admin, "master"), samples)
        tenant_times = timed(call(tenant, "tenant"), samples)
        # Revocation: delete through gateway 0, then call through gateway 1 at once.
        httpx.post(gateways[0].url + "/key/delete", json={"keys": [key["key"]]}, headers=admin)
        deleted_at = time.perf_counter()
        first = httpx.post(gateways[1].url + "/v1/chat/completions", json=CHAT, headers=tenant)
        gap = time.perf_counter() - deleted_at
        return {
            "completion_master_key": _ms(master_times),
            "completion_virtual_key_with_limits": _ms(tenant_times),
            "revocation": {
                "first_request_after_delete_status": first.status_code,
                "successful_requests_after_delete": 0 if first.status_code == 401 else 1,
                "delete_answer_to_refusal_ms": round(gap * 1000, 2),
            },
        }
    finally:
        for gateway in gateways:
            gateway.stop()


def cold_import(runs: int) -> dict[str, Any]:
    probe = ("import json, sys, time; t = time.perf_counter(); import keys_api.app; "
             "print(json.dumps({'s': time.perf_counter() - t, "
             "'litellm': any(m.split('.')[0] == 'litellm' for m in sys.modules)}))")  # fmt: skip
    env = {**os.environ, "PYTHONPATH": PYTHONPATH, "LITELLM_MASTER_KEY": MASTER}
    results = []
    for _ in range(runs + 1):  # the first run warms the page cache and .pyc files
        out = subprocess.run([sys.executable, "-c", probe], env=env, cwd=ROOT,  # noqa: S603
                             capture_output=True, text=True, check=True)  # fmt: skip
        results.append(json.loads(out.stdout.strip().splitlines()[-1]))
    times = [r["s"] for r in results[1:]]
    return {
        "keys_api_app_import_s_median": round(statistics.median(times), 3),
        "min_s": round(min(times), 3),
        "max_s": round(max(times), 3),
        "runs": runs,
        "litellm_imported": any(r["litellm"] for r in results),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--import-runs", type=int, default=5)
    args = parser.parse_args()
    results: dict[str, Any] = {
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}",
        "load_average_at_start": os.getloadavg(),
        "cold_import": cold_import(args.import_runs),
    }
    with LocalStack({"LITELLM_MASTER_KEY": MASTER}, demo=True) as stack:
        results["adapters_on_local_stack"] = adapters(stack, args.samples)
        results["key_stage_in_process"] = stage_in_process(stack, args.samples // 2)
        results["end_to_end"] = end_to_end(stack, max(args.samples // 4, 20))
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "keys.json").write_text(json.dumps(results, indent=2) + "\n")
    lines = [f"# Virtual keys bench ({results['machine']})", "", "```json",
             json.dumps(results, indent=2), "```"]  # fmt: skip
    (RESULTS / "keys.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
