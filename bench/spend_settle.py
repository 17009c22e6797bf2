"""Issue 7: the response path's spend cost, before and after moving the DynamoDB write off it.

    python -m bench.spend_settle [--calls 400]

Against the local stack (Valkey + moto server over HTTP, devstack.stack.LocalStack), per call:
  old  = Limiter.settle (release slot, count tokens) + SpendLedger.record (TransactWriteItems)
  new  = Limiter.settle with the spend counter + XADD to the spend stream (one round trip)
Each settle follows a real admission (not timed). Prints p50/p95/p99 in ms and the flush time.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
import uuid
from decimal import Decimal

import redis
from gateway.keys.model import KeyRecord
from gateway.keys.store import KeyStore
from gateway.limits import Limiter, Limits
from gateway.spend import SpendEntry, SpendLedger
from gateway.spend_flush import SpendFlusher
from gateway.spend_outbox import encode

from devstack.dynamodb import dynamodb_client
from devstack.stack import LocalStack

STREAM = "gw:spend:bench"


def _pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return round(ordered[min(int(q * len(ordered)), len(ordered) - 1)] * 1000, 2)


def _summary(samples: list[float]) -> dict[str, float]:
    return {
        "p50_ms": _pct(samples, 0.50),
        "p95_ms": _pct(samples, 0.95),
        "p99_ms": _pct(samples, 0.99),
        "mean_ms": round(statistics.fmean(samples) * 1000, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=400)
    args = parser.parse_args()
    with LocalStack({"LITELLM_MASTER_KEY": "sk-bench-master-key-000"}) as stack:
        env = stack.env
        ddb = dynamodb_client(env["DYNAMODB_ENDPOINT_URL"])
        valkey = redis.Redis.from_url(env["REDIS_URL"])
        record = KeyRecord(
            key_hash=uuid.uuid4().hex * 2, token_id=uuid.uuid4().hex, key_name="sk-...bnch",
            created_at="c", updated_at="u", max_budget=Decimal(1000), budget_duration="30d",
            budget_reset_at=time.time() + 30 * 86400, rpm_limit=1_000_000,
        )  # fmt: skip
        KeyStore(ddb, env["KEYS_TABLE"]).create(record)
        ledger = SpendLedger(ddb, env["KEYS_TABLE"], env["SPEND_LOGS_TABLE"])
        limiter = Limiter(valkey)
        limits = Limits(max_budget=1000.0, rpm=1_000_000, window_id=repr(record.budget_reset_at))

        def entry(n: int, kind: str) -> SpendEntry:
            now = time.time()
            return SpendEntry(
                key_hash=record.key_hash, token_id=record.token_id, request_id=f"{kind}-{n}",
                started_epoch=now, ended_epoch=now, model="gpt-4o-mini", provider="openai",
                call_type="chat", cost=Decimal("0.000123"), prompt_tokens=100,
                completion_tokens=20, budget_duration="30d",
            )  # fmt: skip

        old, new = [], []
        for n in range(args.calls + 20):  # interleaved, so load changes hit both alike
            limiter.admit(record.token_id, f"old-{n}", limits, 0.001, 100)
            started = time.perf_counter()
            limiter.settle(record.token_id, f"old-{n}", 120, limits)
            ledger.record(entry(n, "old"), record.budget_reset_at)
            took_old = time.perf_counter() - started
            limiter.admit(record.token_id, f"new-{n}", limits, 0.001, 100)
            queued = entry(n, "new")
            started = time.perf_counter()
            limiter.settle(
                record.token_id, f"new-{n}", 120, limits, cost=queued.cost,
                outbox=(STREAM, encode(queued, record.budget_reset_at)),
            )  # fmt: skip
            took_new = time.perf_counter() - started
            if n >= 20:  # warm-up: connections, script load, moto's first transactions
                old.append(took_old)
                new.append(took_new)
        started = time.perf_counter()
        stats = SpendFlusher(valkey, ledger, STREAM).drain()
        flush_s = time.perf_counter() - started
        result = {
            "calls": args.calls,
            "old_settle_plus_dynamodb_write": _summary(old),
            "new_settle_with_stream": _summary(new),
            "flush": {
                "entries": stats.written,
                "seconds": round(flush_s, 2),
                "ms_per_entry": round(flush_s * 1000 / max(stats.written, 1), 2),
            },
            "loadavg": os.getloadavg(),
            "cpus": os.cpu_count(),
        }
        print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
