"""A full run through one gateway process, every log line captured (DEBUG level, EMF on): no
virtual key, master key, pepper, provider credential (the gateway's or a tenant's) or prompt
text may appear anywhere in it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from devstack.stack import LocalStack
from tests.integration.conftest import MASTER_KEY
from tests.integration.stack import GatewayProcess, write_test_config

ADMIN = {"Authorization": f"Bearer {MASTER_KEY}"}
PROMPT = "zebra quartz marmalade 7731 secret prompt"  # distinctive: easy to find in a log
TENANT_SECRET = "sk-" + "tenantprovidersecret0042"
WRONG_KEY = "sk-" + "wrongkeywrongkey0099"
NO_CACHE = {"no-cache": True, "no-store": True}  # a paraphrase would be a semantic hit


@pytest.fixture(scope="module")
def logged_gateway(stack: LocalStack, tmp_path_factory: Any) -> Iterator[GatewayProcess]:
    workdir = tmp_path_factory.mktemp("secrets")
    env = {
        **stack.env,
        "GATEWAY_CONFIG": str(write_test_config(workdir / "config.yaml", [], cache=True)),
        "POWERTOOLS_LOG_LEVEL": "DEBUG",
        "METRICS_EMF": "true",
        "UVICORN_LOG_LEVEL": "debug",
    }
    process = GatewayProcess(env, workdir / "gateway.log").start()
    yield process
    process.stop()


def _chat(gateway: GatewayProcess, key: str, text: str, **extra: Any) -> httpx.Response:
    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": text}], **extra}
    auth = {"Authorization": f"Bearer {key}"}
    return httpx.post(gateway.url + "/v1/chat/completions", json=body, headers=auth, timeout=120)


def test_a_full_run_logs_no_secret_and_no_prompt(
    logged_gateway: GatewayProcess, stack: LocalStack
) -> None:
    gw = logged_gateway
    generated = httpx.post(
        gw.url + "/key/generate",
        json={
            "team_id": "secrets-team",
            "rpm_limit": 100,
            "max_budget": 5,
            "provider_credentials": {"openai": TENANT_SECRET},
        },
        headers=ADMIN,
        timeout=30,
    )
    assert generated.status_code == 200
    key = generated.json()["key"]
    # A miss, then the same prompt again: a cache hit
    first = _chat(gw, key, PROMPT)
    assert first.status_code == 200 and first.headers["x-cache-status"] == "MISS"
    assert _chat(gw, key, PROMPT).headers["x-cache-status"] == "HIT"
    # Streaming, with and without usage
    for options in ({}, {"stream_options": {"include_usage": True}}):
        streamed = _chat(gw, key, PROMPT + " streamed", stream=True, **options)
        assert streamed.status_code == 200 and "[DONE]" in streamed.text
    # The master key, errors: a provider 500 (after retries), a cut stream, a bad key, bad input
    assert _chat(gw, MASTER_KEY, PROMPT + " as admin").status_code == 200
    stack.fakes["openai"].inject_fault(status=500, times=-1)
    assert _chat(gw, key, PROMPT + " failing", cache=NO_CACHE).status_code >= 500
    stack.fakes["openai"].reset()
    stack.fakes["openai"].inject_fault(mode="cut_stream", times=-1)
    _chat(gw, key, PROMPT + " cut", stream=True, cache=NO_CACHE)
    stack.fakes["openai"].reset()
    assert _chat(gw, WRONG_KEY, PROMPT).status_code == 401
    bad = httpx.post(
        gw.url + "/v1/chat/completions",
        content=b'{"model": "gpt-4o-mini", "messages": "' + PROMPT.encode() + b'"',
        headers={"Authorization": f"Bearer {key}", "content-type": "application/json"},
    )
    assert bad.status_code == 400
    # Key admin: info, update with a new tenant credential, spend logs
    httpx.get(gw.url + "/key/info", headers={"Authorization": f"Bearer {key}"})
    httpx.post(
        gw.url + "/key/update",
        json={"key": key, "provider_credentials": {"openai": TENANT_SECRET + "x"}},
        headers=ADMIN,
    )
    httpx.get(gw.url + "/spend/logs", params={"team_id": "secrets-team"}, headers=ADMIN)
    httpx.get(gw.url + "/metrics")

    logs = gw.logs()
    assert "request completed" in logs  # the run was logged at all
    forbidden = {
        "virtual key": key,
        "virtual key body": key.removeprefix("sk-"),
        "wrong key": WRONG_KEY,
        "master key": MASTER_KEY,
        "pepper": stack.env["KEY_PEPPER"],
        "tenant provider key": TENANT_SECRET,
        "gateway provider key": stack.env["OPENAI_API_KEY"],
        "prompt": PROMPT,
        "prompt words": "marmalade",
    }
    found = {name for name, secret in forbidden.items() if secret in logs}
    assert not found, found
