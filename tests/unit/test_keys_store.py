"""KeyStore against moto's DynamoDB with tables built from template.yaml."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest
from gateway.errors import InvalidRequest, KeyNotFound
from gateway.keys.model import KeyRecord

from tests.unit.keys_support import Tables

pytest_plugins = ["tests.unit.keys_support"]


def _record(n: int, **fields: Any) -> KeyRecord:
    base = KeyRecord(
        key_hash=f"{n:064x}",
        token_id=f"{n:032x}",
        key_name=f"sk-...{n:04d}",
        created_at=f"2026-01-01T00:00:{n:02d}.000000Z",
        updated_at="u",
    )
    return replace(base, **fields)


def test_created_key_is_found_by_hash_and_by_token_id(tables: Tables) -> None:
    store = tables.store()
    store.create(_record(1, team_id="t"))
    assert store.get(f"{1:064x}") == _record(1, team_id="t")
    assert store.get_by_token_id(f"{1:032x}") == _record(1, team_id="t")
    assert store.get("0" * 64) is None and store.get_by_token_id("0" * 32) is None


def test_the_same_secret_cannot_be_stored_twice(tables: Tables) -> None:
    store = tables.store()
    store.create(_record(1))
    with pytest.raises(InvalidRequest):
        store.create(replace(_record(1), token_id="f" * 32))


def test_update_sets_and_removes_attributes(tables: Tables) -> None:
    store = tables.store()
    store.create(_record(1, team_id="t", max_budget=Decimal(1)))
    updated = store.update(f"{1:064x}", {"team_id": None, "rpm_limit": 7, "metadata": {"a": 1}})
    assert updated.team_id is None and updated.rpm_limit == 7 and updated.metadata == {"a": 1}
    assert updated.max_budget == Decimal(1)
    with pytest.raises(KeyNotFound):
        store.update("0" * 64, {"rpm_limit": 1})


def test_delete_removes_key_and_pointer(tables: Tables) -> None:
    store = tables.store()
    store.create(_record(1))
    store.delete(_record(1))
    assert store.get(f"{1:064x}") is None and store.get_by_token_id(f"{1:032x}") is None
    assert tables.client.scan(TableName=tables.keys)["Count"] == 0
    with pytest.raises(KeyNotFound):
        store.delete(_record(1))


def test_replace_moves_the_key_to_its_new_hash(tables: Tables) -> None:
    store = tables.store()
    store.create(_record(1))
    new = replace(_record(1), key_hash="e" * 64)
    store.replace(_record(1), new)
    assert store.get(f"{1:064x}") is None
    assert store.get("e" * 64) == new
    assert store.get_by_token_id(f"{1:032x}") == new


def test_scan_by_team_user_or_everything_skips_pointers(tables: Tables) -> None:
    store = tables.store()
    for n, team in ((1, "a"), (2, "b"), (3, "a")):
        store.create(_record(n, team_id=team, user_id=f"u{n}"))
    assert [r.token_id for r in store.scan(team_id="a")] == [f"{1:032x}", f"{3:032x}"]
    assert [r.token_id for r in store.scan(user_id="u2")] == [f"{2:032x}"]
    assert len(list(store.scan())) == 3
