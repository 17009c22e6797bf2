"""Key lookup cost on the local stack: the consistent DynamoDB read every virtual-key request
used to make, against the Valkey copy that replaces it (issue 7).

- before: `KeyStore.get` (GetItem, ConsistentRead) on the moto server;
- after, hit: `CachedKeyStore.get` served from Valkey (GET + JSON decode);
- after, miss: the first read of a key (Valkey GET + GetItem + SET NX fill).

Run: `python -m bench.keys.record_cache_lookup [--samples N]`; prints JSON (writes nothing).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from decimal import Decimal
from typing import Any

import redis
from gateway.keys.model import KeyRecord
from gateway.keys.record_cache import CachedKeyStore, KeyRecordCache, cache_key
from gateway.keys.store import KeyStore

from bench.keys.run import timed
from bench.overhead.stats import summary_ms
from devstack.dynamodb import dynamodb_client
from devstack.stack import LocalStack


def _first_reads(lookup: CachedKeyStore, records: list[KeyRecord]) -> list[float]:
    times = []
    for record in records:  # each key read once: always a miss, then filled
        started = time.perf_counter()
        assert lookup.get(record.key_hash) == record
        times.append(time.perf_counter() - started)
    return times


def _record(n: int) -> KeyRecord:
    return KeyRecord(
        key_hash=f"{n:064x}", token_id=f"{n:032x}", key_name="sk-...bnch", created_at="c",
        updated_at="u", team_id="bench", models=("gpt-4o-mini", "fast"),
        aliases={"fast": "gpt-4o-mini"}, max_budget=Decimal(25), spend=Decimal("0.0123"),
        rpm_limit=600, tpm_limit=200_000, max_parallel_requests=20, metadata={"cost": "4711"},
        tags=("prod",),
    )  # fmt: skip


def measure(stack: LocalStack, samples: int) -> dict[str, Any]:
    store = KeyStore(dynamodb_client(stack.env["DYNAMODB_ENDPOINT_URL"]), stack.env["KEYS_TABLE"])
    client = redis.Redis.from_url(stack.env["REDIS_URL"], socket_timeout=2.0)
    cache = KeyRecordCache(client, ttl_s=300, negative_ttl_s=30, tombstone_s=10)
    lookup = CachedKeyStore(cache, lambda: store)
    hot = _record(1)
    store.create(hot)
    misses = [_record(1000 + n) for n in range(samples + 20)]
    for record in misses:
        store.create(record)
    client.delete(cache_key(hot.key_hash))
    assert lookup.get(hot.key_hash) == hot  # filled
    assert lookup.get(misses[0].key_hash) == misses[0]
    return {
        "before: KeyStore.get (consistent GetItem, moto server)": summary_ms(
            timed(lambda _: store.get(hot.key_hash), samples, warmup=20)
        ),
        "after: CachedKeyStore.get, hit (Valkey GET + decode)": summary_ms(
            timed(lambda _: lookup.get(hot.key_hash), samples, warmup=20)
        ),
        "after: CachedKeyStore.get, first read of a key (GET + GetItem + SET NX)": summary_ms(
            _first_reads(lookup, misses[1:])
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=400)
    args = parser.parse_args()
    with LocalStack({"LITELLM_MASTER_KEY": "sk-bench-master-key-000000"}) as stack:
        results = measure(stack, args.samples)
    results["load_average"] = os.getloadavg()
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
