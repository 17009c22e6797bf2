"""The spend stream: the durable outbox between the response path and DynamoDB (issue 7).

On the response path the key stage settles in Valkey in one round trip (gateway.limits): the
request's slot is released, its cost is added to the key's window spend counter, and its full
`SpendEntry` is appended to the stream `SPEND_STREAM` as one JSON field. The spend flusher
(gateway.spend_flush) reads the stream with a consumer group and writes each entry with the
idempotent `SpendLedger.record`, then acknowledges and deletes it. An entry leaves the stream
only once DynamoDB has it, so the stream never needs trimming, and a re-delivered entry is
counted once (the spend log's conditional Put on the request id).

Durability: between settle and flush (normally about a second) spend lives only in Valkey, so it
relies on Valkey's replication (ElastiCache with a replica and Multi-AZ failover). An
asynchronous-replication loss at failover can drop the last few entries, and the counter with
them (they travel together in one MULTI/EXEC). The stream and counters carry no TTL, so a
volatile-* maxmemory policy never evicts them (template.yaml: CacheParameterGroup).
"""

from __future__ import annotations

import dataclasses
import json
from decimal import Decimal
from typing import Any

from gateway.keys.model import KeyRecord
from gateway.spend import SpendEntry

DEFAULT_STREAM = "gw:spend:stream"
GROUP = "spend-flush"
_FIELD = "e"


def encode(entry: SpendEntry, budget_reset_at: float | None) -> dict[Any, Any]:
    """The stream fields of one entry (`budget_reset_at`: the settling instance's view)."""
    body = {field.name: getattr(entry, field.name) for field in dataclasses.fields(entry)}
    body.update(
        cost=format(entry.cost, "f"),  # plain notation: DynamoDB (and moto) parse it exactly
        compression=dict(entry.compression),
        budget_reset_at=budget_reset_at,
    )
    return {_FIELD: json.dumps(body, separators=(",", ":"))}


def decode(fields: dict[Any, Any]) -> tuple[SpendEntry, float | None]:
    """The entry and budget view of one stream message; ValueError/KeyError if malformed."""
    raw = fields.get(_FIELD.encode(), fields.get(_FIELD))
    if raw is None:
        raise KeyError(_FIELD)
    body = json.loads(raw)
    reset_at = body.pop("budget_reset_at", None)
    body["cost"] = Decimal(body["cost"])
    return SpendEntry(**body), reset_at


def window_id(record: KeyRecord, now: float) -> str:
    """The id of the budget window containing `now`, the same on every instance: where that
    window ends (stepped from the stored anchor), or "none" for a key without a window."""
    if record.budget_duration is None or record.budget_reset_at is None:
        return "none"
    return repr(float(record.next_budget_reset(now) or record.budget_reset_at))
