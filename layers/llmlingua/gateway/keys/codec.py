"""KeyRecord <-> DynamoDB item (low-level AttributeValue form), and plain value conversion.

Numbers travel as Decimal strings so spend adds up exactly; metadata is stored as a JSON string
(DynamoDB rejects floats and empty sets inside maps, JSON has neither problem).
"""

from __future__ import annotations

import json
from dataclasses import fields
from decimal import Decimal
from typing import Any

from gateway.keys.model import KeyRecord

_NUMBER_FIELDS = {"max_budget", "soft_budget", "spend"}
_INT_FIELDS = {"rpm_limit", "tpm_limit", "max_parallel_requests"}
_EPOCH_FIELDS = {"budget_reset_at", "expires_at"}
_LIST_FIELDS = {"models", "tags", "credential_providers", "previous_key_hashes"}


def to_attribute(value: Any) -> dict[str, Any]:
    """One Python value as a DynamoDB AttributeValue."""
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, int | float | Decimal):
        return {"N": str(Decimal(str(value)))}
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, bytes):
        return {"B": value}
    if isinstance(value, list | tuple):
        return {"L": [to_attribute(v) for v in value]}
    if isinstance(value, dict):
        return {"M": {str(k): to_attribute(v) for k, v in value.items()}}
    if value is None:
        return {"NULL": True}
    raise TypeError(f"cannot store {type(value).__name__} in DynamoDB")


def from_attribute(attribute: dict[str, Any]) -> Any:
    ((kind, value),) = attribute.items()
    if kind == "N":
        return Decimal(value)
    if kind == "L":
        return [from_attribute(v) for v in value]
    if kind == "M":
        return {k: from_attribute(v) for k, v in value.items()}
    if kind == "NULL":
        return None
    return value  # S, B, BOOL


def encode_field(name: str, value: Any) -> dict[str, Any]:
    """One KeyRecord field (or `ttl`) as the attribute it is stored as."""
    if name == "metadata":
        return {"S": json.dumps(dict(value), separators=(",", ":"))}
    if name in ("aliases", "model_spend"):
        return to_attribute(dict(value))
    return to_attribute(value)


def record_to_item(record: KeyRecord) -> dict[str, Any]:
    item: dict[str, Any] = {}
    for spec in fields(record):
        value = getattr(record, spec.name)
        if value is not None:  # absent, so sparse indexes (team_id, user_id) stay valid
            item[spec.name] = encode_field(spec.name, value)
    return item


def item_to_record(item: dict[str, Any]) -> KeyRecord:
    raw = {name: from_attribute(value) for name, value in item.items()}
    known = {spec.name for spec in fields(KeyRecord)}
    values: dict[str, Any] = {}
    for name, value in raw.items():
        if name not in known:
            continue
        if name in _INT_FIELDS:
            value = int(value)
        elif name in _EPOCH_FIELDS:
            value = float(value)
        elif name in _LIST_FIELDS:
            value = tuple(value)
        elif name == "metadata":
            value = json.loads(value)
        elif name == "credentials":
            value = bytes(value)
        elif name not in _NUMBER_FIELDS and name != "model_spend" and isinstance(value, Decimal):
            value = float(value)
        values[name] = value
    return KeyRecord(**values)
