"""Read-your-writes for admins (issue 7): the keys function persists queued spend before it shows
or changes spend, and drops the key's Valkey counter after a spend or budget change."""

from __future__ import annotations

import time
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient
from gateway.spend import SpendEntry
from gateway.spend_outbox import DEFAULT_STREAM, encode

from devstack.valkey import LocalValkey
from tests.unit.keys_support import MASTER, Tables

pytest_plugins = ["tests.unit.keys_support"]

ADMIN = {"Authorization": f"Bearer {MASTER}"}


@pytest.fixture
def api(
    gateway_env: Tables,
    valkey: redis.Redis,
    valkey_server: LocalValkey,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[TestClient]:
    from gateway.clients import clear_clients
    from gateway.settings import get_settings

    monkeypatch.setenv("REDIS_URL", valkey_server.url)
    get_settings.cache_clear()
    clear_clients()
    from keys_api.app import app

    with TestClient(app) as client:
        yield client
    clear_clients()


def _key(api: TestClient, **body: Any) -> tuple[dict[str, Any], str]:
    from gateway.keys.factory import key_service

    created = api.post("/key/generate", json=body, headers=ADMIN).json()
    return created, key_service().resolve(created["token_id"]).key_hash


def _queue(valkey: redis.Redis, key_hash: str, token_id: str, n: int, cost: str) -> None:
    now = time.time()
    entry = SpendEntry(
        key_hash=key_hash, token_id=token_id, request_id=f"req-{n}", started_epoch=now,
        ended_epoch=now, model="gpt-4o", provider="openai", call_type="chat", cost=Decimal(cost),
    )  # fmt: skip
    valkey.xadd(DEFAULT_STREAM, encode(entry, None))


def test_info_list_and_logs_show_spend_still_queued(api: TestClient, valkey: redis.Redis) -> None:
    key, key_hash = _key(api, team_id="rw")
    _queue(valkey, key_hash, key["token_id"], 1, "0.5")
    info = api.get("/key/info", params={"key": key["token_id"]}, headers=ADMIN).json()
    assert info["info"]["spend"] == 0.5 and valkey.xlen(DEFAULT_STREAM) == 0
    _queue(valkey, key_hash, key["token_id"], 2, "0.25")
    own = api.get("/key/info", headers={"Authorization": f"Bearer {key['key']}"}).json()
    assert own["info"]["spend"] == 0.75  # a virtual key reading itself sees it too
    _queue(valkey, key_hash, key["token_id"], 3, "0.25")
    logs = api.get("/spend/logs", params={"api_key": key["token_id"]}, headers=ADMIN).json()
    assert [entry["request_id"] for entry in logs] == ["req-1", "req-2", "req-3"]


def test_a_spend_reset_lands_after_queued_spend_and_drops_the_counter(
    api: TestClient, valkey: redis.Redis
) -> None:
    key, key_hash = _key(api, max_budget=5.0)
    counter = "gw:lim:{" + key["token_id"] + "}:spend"
    valkey.hset(counter, mapping={"w": "none", "s": "4.5"})
    _queue(valkey, key_hash, key["token_id"], 1, "4.5")
    reset = api.post("/key/update", json={"key": key["token_id"], "spend": 0}, headers=ADMIN)
    assert reset.status_code == 200 and reset.json()["spend"] == 0.0  # not 4.5 on top of 0
    assert valkey.exists(counter) == 0 and valkey.xlen(DEFAULT_STREAM) == 0
    # A change of other fields leaves the counter alone
    valkey.hset(counter, mapping={"w": "none", "s": "1"})
    api.post("/key/update", json={"key": key["token_id"], "key_alias": "x"}, headers=ADMIN)
    assert valkey.exists(counter) == 1
