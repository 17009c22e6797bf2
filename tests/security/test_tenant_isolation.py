"""Two tenants (teams) on one gateway process with the cache on: the same prompt never hits the
other tenant's cache entry, spend logs and key info never show the other tenant, and the
metrics team label is each tenant's own."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from devstack.stack import LocalStack
from tests.integration.conftest import MASTER_KEY
from tests.integration.stack import GatewayProcess, write_test_config

ADMIN = {"Authorization": f"Bearer {MASTER_KEY}"}


@pytest.fixture(scope="module")
def gw(stack: LocalStack, tmp_path_factory: Any) -> Iterator[GatewayProcess]:
    workdir = tmp_path_factory.mktemp("isolation")
    config = write_test_config(workdir / "c.yaml", [], cache=True)
    process = GatewayProcess({**stack.env, "GATEWAY_CONFIG": str(config)}, workdir / "g.log")
    yield process.start()
    process.stop()


def _chat(gw: GatewayProcess, key: str, text: str, **extra: Any) -> httpx.Response:
    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": text}], **extra}
    return httpx.post(
        gw.url + "/v1/chat/completions",
        json=body,
        headers={"Authorization": f"Bearer {key}"},
        timeout=60,
    )


def test_two_tenants_share_nothing(gw: GatewayProcess) -> None:
    keys = {}
    for team in ("iso-team-a", "iso-team-b"):
        made = httpx.post(
            gw.url + "/key/generate", json={"team_id": team}, headers=ADMIN, timeout=30
        )
        keys[team] = made.json()
    a, b = keys["iso-team-a"], keys["iso-team-b"]
    prompt = "What is the capital of the isolation test country?"
    # Cache: A stores, A hits; B with the same prompt (and a paraphrase) misses, then hits its own
    assert _chat(gw, a["key"], prompt).headers["x-cache-status"] == "MISS"
    assert _chat(gw, a["key"], prompt).headers["x-cache-status"] == "HIT"
    assert _chat(gw, b["key"], prompt).headers["x-cache-status"] == "MISS"
    para = _chat(gw, b["key"], "What's the capital of the isolation test country?")
    assert para.headers["x-cache-status"] in ("MISS", "SEMANTIC_HIT")  # B's own entry only
    streamed = _chat(gw, b["key"], prompt, stream=True)
    assert streamed.headers["x-cache-status"] == "HIT"  # its own entry, replayed
    # The master key is its own tenant too
    assert _chat(gw, MASTER_KEY, prompt).headers["x-cache-status"] == "MISS"
    # Spend logs: team A's never contain B's key or team, and the reverse
    for mine, theirs in ((a, b), (b, a)):
        logs = httpx.get(
            gw.url + "/spend/logs", params={"team_id": mine["team_id"]}, headers=ADMIN
        ).json()
        assert logs and {entry["team_id"] for entry in logs} == {mine["team_id"]}
        assert {entry["api_key"] for entry in logs} == {mine["token_id"]}
        assert theirs["token_id"] not in str(logs)
        # Key info with its own key shows only itself
        info = httpx.get(gw.url + "/key/info", headers={"Authorization": f"Bearer {mine['key']}"})
        assert info.json()["key"] == mine["token_id"] and theirs["token_id"] not in info.text
        # /key/list filtered by team lists only that team's keys
        listed = httpx.get(
            gw.url + "/key/list", params={"team_id": mine["team_id"]}, headers=ADMIN
        ).json()
        assert listed["keys"] == [mine["token_id"]]
    # Metrics: each request is counted under its own team label, never the other's
    metrics = httpx.get(gw.url + "/metrics").text
    lines = [ln for ln in metrics.splitlines() if ln.startswith("litellm_cache_hit_total")]
    assert any('team="iso-team-a"' in ln for ln in lines)
    assert any('team="iso-team-b"' in ln for ln in lines)
    assert "sk-" not in metrics and a["token_id"] not in metrics  # no keys as labels
