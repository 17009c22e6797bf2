"""Authorization matrix: every route of both functions (read from template.yaml) against every
kind of caller, through one gateway process. Each cell names the expected status; every refusal
is the OpenAI error envelope and no cell is ever a 5xx."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from devstack.apigw import Route, routes_from_template
from devstack.cfn import load_template
from devstack.stack import TEMPLATE
from tests.integration.conftest import MASTER_KEY
from tests.integration.stack import GatewayProcess

ADMIN = {"Authorization": f"Bearer {MASTER_KEY}"}
ROUTES = routes_from_template(load_template(TEMPLATE))
CALLERS = ("none", "wrong", "garbage", "expired", "blocked", "deleted", "other", "own", "master")
PUBLIC = {"/health", "/health/liveliness", "/health/readiness", "/metrics"}  # no key needed
INFERENCE = {
    "/v1/chat/completions",
    "/chat/completions",
    "/v1/completions",
    "/completions",
    "/v1/embeddings",
    "/embeddings",
    "/v1/models",
    "/models",
}
REFUSAL = {  # caller -> (status, error code) on every authenticated route
    "none": (401, "missing_api_key"),
    "wrong": (401, "invalid_api_key"),
    "garbage": (401, "invalid_api_key"),
    "expired": (401, "expired_key"),
    "blocked": (403, "key_blocked"),
    "deleted": (401, "invalid_api_key"),
}


def _generate(gateway: GatewayProcess, **settings: Any) -> dict[str, Any]:
    response = httpx.post(gateway.url + "/key/generate", json=settings, headers=ADMIN, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture(scope="module")
def keys(gateway: GatewayProcess) -> dict[str, Any]:
    """One key per kind of caller; `own` is tenant A, `other` tenant B."""
    made = {
        "own": _generate(gateway, team_id="authz-team-a", key_alias="a"),
        "other": _generate(gateway, team_id="authz-team-b", key_alias="b"),
        "expired": _generate(gateway, team_id="authz-team-a", duration="1s"),
        "blocked": _generate(gateway, team_id="authz-team-a", blocked=True),
        "deleted": _generate(gateway, team_id="authz-team-a"),
    }
    deleted = httpx.post(
        gateway.url + "/key/delete", json={"keys": [made["deleted"]["token_id"]]}, headers=ADMIN
    )
    assert deleted.status_code == 200
    time.sleep(1.1)  # the 1 s key expires (expiry is checked in code against the clock)
    return made


def _headers(caller: str, keys: dict[str, Any]) -> dict[str, Any]:
    if caller == "garbage":  # not even a key: non-ASCII bytes
        return {"Authorization": "Bearer not-a-key-\u00e9".encode()}
    secret = {"none": None, "wrong": "sk-" + "x" * 43, "master": MASTER_KEY}.get(caller) or (
        keys[caller]["key"] if caller in keys else None
    )
    return {"Authorization": f"Bearer {secret}"} if secret else {}


def _request(
    gateway: GatewayProcess, route: Route, caller: str, keys: dict[str, Any]
) -> httpx.Response:
    """A well-formed request for the route; admin writes target a fresh throwaway key."""
    target = keys["own" if caller == "other" else "other"]["token_id"]  # the other tenant's
    if route.path in ("/key/update", "/key/delete", "/key/regenerate", "/key/block"):
        target = _generate(gateway, team_id="authz-team-b")["token_id"]
    bodies: dict[str, Any] = {
        "/v1/chat/completions": {
            "model": "gpt-4o-mini",
            "messages": [{"role": "user", "content": "hi"}],
        },
        "/v1/completions": {"model": "gpt-3.5-turbo-instruct", "prompt": "hi"},
        "/v1/embeddings": {"model": "text-embedding-3-small", "input": "hi"},
        "/key/generate": {"team_id": "authz-team-b"},
        "/key/info": {"key": target},
        "/key/update": {"key": target, "tags": ["x"]},
        "/key/delete": {"keys": [target]},
        "/key/regenerate": {"key": target},
        "/key/block": {"key": target},
        "/key/unblock": {"key": target},
    }
    bodies.update({p.removeprefix("/v1"): bodies[p] for p in list(bodies) if p.startswith("/v1/")})
    params = {
        "/key/info": {"key": target},
        "/key/list": {"team_id": "authz-team-b"},
        "/spend/logs": {"team_id": "authz-team-b"},
    }
    headers = _headers(caller, keys)
    if route.method == "GET":
        return httpx.get(
            gateway.url + route.path, params=params.get(route.path), headers=headers, timeout=60
        )
    return httpx.post(
        gateway.url + route.path, json=bodies[route.path], headers=headers, timeout=60
    )


def _expected(route: Route, caller: str) -> tuple[int, str | None]:
    if route.path in PUBLIC:
        return 200, None
    if caller in REFUSAL:
        return REFUSAL[caller]
    if caller == "master" or route.path in INFERENCE:
        return 200, None  # both tenants' keys may call models; the master may do anything
    # A virtual key may only read its own /key/info: naming tenant B's key is refused too.
    return 403, "master_key_required"


def test_every_route_of_both_functions_is_in_the_matrix() -> None:
    assert {r.function for r in ROUTES} == {"CompletionFunction", "KeysFunction"}
    assert len(ROUTES) == 22  # a new route must be added to the matrix below


@pytest.mark.parametrize("route", ROUTES, ids=[f"{r.method} {r.path}" for r in ROUTES])
def test_route_against_every_caller(
    gateway: GatewayProcess, keys: dict[str, Any], route: Route
) -> None:
    failures = []
    for caller in CALLERS:
        response = _request(gateway, route, caller, keys)
        status, code = _expected(route, caller)
        assert response.status_code < 500, (caller, response.text)
        if response.status_code != status:
            failures.append((caller, response.status_code, response.text[:200]))
            continue
        if status >= 400:
            error = response.json()["error"]
            assert set(error) == {"message", "type", "param", "code"}, (caller, error)
            assert error["code"] == code, (caller, error)
            assert keys["other"]["key"] not in response.text
    assert not failures, failures


def test_virtual_key_reads_its_own_info_only(gateway: GatewayProcess, keys: dict[str, Any]) -> None:
    own = {"Authorization": f"Bearer {keys['own']['key']}"}
    mine = httpx.get(gateway.url + "/key/info", headers=own)
    assert mine.status_code == 200 and mine.json()["key"] == keys["own"]["token_id"]
    named = httpx.post(gateway.url + "/key/info", json={"key": keys["own"]["key"]}, headers=own)
    assert named.status_code == 200
    # Another tenant's key, by token id or by secret, on GET and POST: refused, nothing leaked
    for ref in (keys["other"]["token_id"], keys["other"]["key"]):
        for response in (
            httpx.get(gateway.url + "/key/info", params={"key": ref}, headers=own),
            httpx.post(gateway.url + "/key/info", json={"key": ref}, headers=own),
        ):
            assert response.status_code == 403
            assert "authz-team-b" not in response.text and keys["other"]["token_id"] not in (
                response.text
            )
    # Its own team's spend logs are still an admin read
    spend = httpx.get(gateway.url + "/spend/logs", params={"team_id": "authz-team-a"}, headers=own)
    assert spend.status_code == 403 and spend.json()["error"]["code"] == "master_key_required"
