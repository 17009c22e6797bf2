"""The keys function's routes (FastAPI TestClient) over moto DynamoDB: contract and bad input."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.unit.keys_support import MASTER, Tables

pytest_plugins = ["tests.unit.keys_support"]

ADMIN = {"Authorization": f"Bearer {MASTER}"}


@pytest.fixture
def api(gateway_env: Tables) -> Iterator[TestClient]:
    from keys_api.app import app

    with TestClient(app) as client:
        yield client


def _generate(api: TestClient, **body: Any) -> dict[str, Any]:
    response = api.post("/key/generate", json=body, headers=ADMIN)
    assert response.status_code == 200, response.text
    return response.json()


def _error(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    return error


def test_generate_returns_the_secret_once_with_litellm_fields(api: TestClient) -> None:
    body = _generate(
        api, key_alias="team-a", team_id="t", user_id="u", max_budget=10, duration="30d", rpm=5
    )
    assert body["key"].startswith("sk-") and body["key_name"] == "sk-..." + body["key"][-4:]
    assert body["expires"] and body["max_budget"] == 10 and body["rpm_limit"] == 5
    assert (body["team_id"], body["user_id"]) == ("t", "u")
    info = api.get("/key/info", params={"key": body["token_id"]}, headers=ADMIN).json()
    assert info["key"] == body["token_id"] and "key" not in info["info"]
    assert body["key"] not in str(info)


def test_info_never_shows_the_hash_or_credentials(api: TestClient, gateway_env: Tables) -> None:
    body = _generate(api, provider_credentials={"openai": "sk-tenant-provider-secret"})
    stored = gateway_env.client.scan(TableName=gateway_env.keys)["Items"]
    key_hash = next(i["key_hash"]["S"] for i in stored if "token_id" in i)
    for response in (
        api.post("/key/info", json={"key": body["key"]}, headers=ADMIN),
        api.get("/key/list", params={"return_full_object": "true"}, headers=ADMIN),
        api.post("/key/update", json={"key": body["token_id"], "tags": ["x"]}, headers=ADMIN),
    ):
        assert response.status_code == 200
        assert key_hash not in response.text and "sk-tenant-provider-secret" not in response.text
    assert "openai" in api.post("/key/info", json={"key": body["key"]}, headers=ADMIN).text


def test_virtual_key_reads_only_its_own_info(api: TestClient) -> None:
    mine, other = _generate(api), _generate(api)
    auth = {"Authorization": f"Bearer {mine['key']}"}
    assert api.get("/key/info", headers=auth).json()["key"] == mine["token_id"]
    assert api.get("/key/info", params={"key": mine["key"]}, headers=auth).status_code == 200
    denied = api.get("/key/info", params={"key": other["token_id"]}, headers=auth)
    assert _error(denied, 403)["code"] == "master_key_required"
    assert (
        _error(api.post("/key/generate", json={}, headers=auth), 403)["type"] == "permission_error"
    )


def test_update_block_unblock_and_delete(api: TestClient) -> None:
    key = _generate(api, models=["gpt-4o"])
    ref = {"key": key["token_id"]}
    updated = api.post("/key/update", json={**ref, "max_budget": None, "tpm": 10}, headers=ADMIN)
    assert updated.json()["tpm_limit"] == 10
    assert api.post("/key/block", json=ref, headers=ADMIN).json()["blocked"] is True
    assert api.post("/key/unblock", json=ref, headers=ADMIN).json()["blocked"] is False
    deleted = api.post("/key/delete", json={"keys": [key["key"]]}, headers=ADMIN).json()
    assert deleted == {"deleted_keys": [key["token_id"]]}
    assert _error(api.post("/key/info", json=ref, headers=ADMIN), 404)["code"] == "key_not_found"


def test_regenerate_issues_a_new_secret(api: TestClient) -> None:
    key = _generate(api, key_alias="a")
    new = api.post("/key/regenerate", json={"key": key["key"]}, headers=ADMIN).json()
    assert new["key"] != key["key"] and new["token_id"] == key["token_id"]
    assert _error(api.get("/key/info", headers={"Authorization": f"Bearer {key['key']}"}), 401)
    assert (
        api.get("/key/info", headers={"Authorization": f"Bearer {new['key']}"}).status_code == 200
    )


def test_list_is_filtered_and_paginated(api: TestClient) -> None:
    for _ in range(3):
        _generate(api, team_id="t")
    _generate(api, team_id="other")
    page = api.get("/key/list", params={"team_id": "t", "size": 2, "page": 2}, headers=ADMIN)
    assert page.json() | {"keys": None} == {
        "keys": None,
        "total_count": 3,
        "current_page": 2,
        "total_pages": 2,
    }
    assert len(page.json()["keys"]) == 1


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/key/generate", {"max_budget": -1}),
        ("/key/generate", {"max_budget": "10"}),
        ("/key/generate", {"rpm_limit": 1.5}),
        ("/key/generate", {"tpm": -5}),
        ("/key/generate", {"rpm": 1, "rpm_limit": 2}),
        ("/key/generate", {"duration": "30 days"}),
        ("/key/generate", {"budget_duration": "1y"}),
        ("/key/generate", {"unknown_field": 1}),
        ("/key/generate", {"models": "gpt-4o"}),
        ("/key/generate", {"models": ["not-a-model"]}),
        ("/key/generate", {"metadata": {"blob": "x" * 9000}}),
        ("/key/generate", {"blocked": "yes"}),
        ("/key/generate", {"provider_credentials": {"azure": "k"}}),
        ("/key/generate", {"key": "not-sk"}),
        ("/key/generate", []),
        ("/key/update", {"tags": ["x"]}),
        ("/key/delete", {}),
        ("/key/delete", {"keys": [], "key": "x"}),
        ("/key/block", {"key": 5}),
    ],
)
def test_bad_input_is_400_in_the_envelope(api: TestClient, path: str, body: Any) -> None:
    assert _error(api.post(path, json=body, headers=ADMIN), 400)["type"] == "invalid_request_error"


def test_malformed_json_and_unknown_query_parameters_are_400(api: TestClient) -> None:
    raw = api.post(
        "/key/generate", content=b"{nope", headers={**ADMIN, "content-type": "application/json"}
    )
    assert _error(raw, 400)["code"] == "invalid_json"
    assert _error(api.get("/key/list", params={"pgae": 2}, headers=ADMIN), 400)["param"] == "pgae"
    assert _error(api.get("/key/list", params={"size": 0}, headers=ADMIN), 400)
    assert _error(api.get("/spend/logs", headers=ADMIN), 400)["param"] == "api_key"
    bad_date = api.get("/spend/logs", params={"team_id": "t", "start_date": "soon"}, headers=ADMIN)
    assert _error(bad_date, 400)["param"] == "start_date"
    bad_token = api.get("/spend/logs", params={"team_id": "t", "page_token": "!!"}, headers=ADMIN)
    assert _error(bad_token, 400)["param"] == "page_token"


def test_no_key_or_a_wrong_key_is_401(api: TestClient) -> None:
    assert _error(api.post("/key/generate", json={}), 401)["code"] == "missing_api_key"
    wrong = {"Authorization": "Bearer sk-not-a-real-key-000000"}
    assert _error(api.get("/key/list", headers=wrong), 401)["code"] == "invalid_api_key"


def _log(tables: Tables, key_hash: str, request_id: str, started: float, **fields: Any) -> None:
    from decimal import Decimal

    from gateway.spend import SpendEntry, SpendLedger

    entry = SpendEntry(
        key_hash=key_hash,
        token_id="t",
        request_id=request_id,
        started_epoch=started,
        ended_epoch=started + 1,
        model="gpt-4o",
        provider="openai",
        call_type="chat",
        cost=Decimal("0.01"),
        team_id="team-logs",
        **fields,
    )
    SpendLedger(tables.client, tables.keys, tables.spend_logs).record(entry, None)


def test_spend_logs_page_through_every_hash_of_a_regenerated_key(
    api: TestClient,
    gateway_env: Tables,
) -> None:
    import time

    from gateway.keys.factory import key_service

    key = _generate(api, team_id="team-logs")
    now = time.time()
    first_hash = key_service().resolve(key["token_id"]).key_hash
    for n in range(3):
        _log(gateway_env, first_hash, f"old-{n}", now - 100 + n)
    api.post("/key/regenerate", json={"key": key["token_id"]}, headers=ADMIN)
    second_hash = key_service().resolve(key["token_id"]).key_hash
    for n in range(2):
        _log(gateway_env, second_hash, f"new-{n}", now - 50 + n)
    _log(gateway_env, second_hash, "expired", now - 200 * 86400)  # past its 90-day TTL

    seen, token = [], None
    while True:
        params = {
            "api_key": key["token_id"],
            "limit": 2,
            **({"page_token": token} if token else {}),
        }
        response = api.get("/spend/logs", params=params, headers=ADMIN)
        assert response.status_code == 200
        seen += [entry["request_id"] for entry in response.json()]
        token = response.headers.get("x-next-page-token")
        if not token:
            break
    assert sorted(seen) == ["new-0", "new-1", "old-0", "old-1", "old-2"]
    assert first_hash not in response.text and second_hash not in response.text

    by_team = api.get("/spend/logs", params={"team_id": "team-logs"}, headers=ADMIN).json()
    assert {entry["api_key"] for entry in by_team} == {"t"} and len(by_team) == 5
    between = {
        "team_id": "team-logs",
        "start_date": datetime.fromtimestamp(now - 75, UTC).isoformat(),
        "end_date": datetime.fromtimestamp(now - 49.5, UTC).isoformat(),
    }
    in_range = api.get("/spend/logs", params=between, headers=ADMIN).json()
    assert [entry["request_id"] for entry in in_range] == ["new-0"]
