"""A tenant's virtual key through the local stack, with the openai SDK as the client: the
onboarding walkthrough of docs/keys.md, model access, budgets, limits and spend logs."""

from __future__ import annotations

import time
from typing import Any

import httpx
import openai
import pytest

from tests.integration.conftest import MASTER_KEY
from tests.integration.stack import GatewayProcess

ADMIN = {"Authorization": f"Bearer {MASTER_KEY}"}
HELLO: Any = [{"role": "user", "content": "hello from a tenant"}]


def _generate(gateway: GatewayProcess, **settings: Any) -> dict[str, Any]:
    response = httpx.post(gateway.url + "/key/generate", json=settings, headers=ADMIN, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


def _code(error: openai.APIStatusError) -> Any:
    body: Any = error.body
    return body["code"]


def _sdk(gateway: GatewayProcess, key: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=gateway.url + "/v1", api_key=key, max_retries=0)


def test_tenant_onboarding_walkthrough(gateway: GatewayProcess) -> None:
    # Given a key for a team with a budget, as the admin creates it
    key = _generate(gateway, key_alias="acme-prod", team_id="acme", max_budget=5.0, rpm_limit=100)
    # When the tenant calls the gateway with the openai SDK
    raw = _sdk(gateway, key["key"]).chat.completions.with_raw_response.create(
        model="gpt-4o-mini", messages=HELLO
    )
    reply = raw.parse()
    assert "hello from a tenant" in str(reply.choices[0].message.content)
    assert raw.headers["x-ratelimit-limit-requests"] == "100"
    assert raw.headers["x-ratelimit-remaining-requests"] == "99"
    # Then its spend shows in /key/info (readable with its own key) and in /spend/logs
    own = httpx.get(gateway.url + "/key/info", headers={"Authorization": f"Bearer {key['key']}"})
    info = own.json()["info"]
    assert info["spend"] > 0 and info["budget_remaining"] == pytest.approx(5.0 - info["spend"])
    logs = httpx.get(
        gateway.url + "/spend/logs", params={"api_key": key["token_id"]}, headers=ADMIN
    )
    (entry,) = logs.json()
    assert entry["request_id"] == raw.headers["x-litellm-call-id"]  # the gateway's request id
    assert entry["model"] == "gpt-4o-mini" and entry["custom_llm_provider"] == "openai"
    usage: Any = reply.usage
    assert entry["prompt_tokens"] == usage.prompt_tokens
    assert entry["completion_tokens"] == usage.completion_tokens
    assert entry["spend"] == pytest.approx(info["spend"]) and entry["team_id"] == "acme"


def test_aliases_resolve_before_the_model_check(gateway: GatewayProcess) -> None:
    key = _generate(gateway, models=["gpt-4o-mini"], aliases={"house-model": "gpt-4o-mini"})
    client = _sdk(gateway, key["key"])
    assert client.chat.completions.create(model="house-model", messages=HELLO).model
    with pytest.raises(openai.PermissionDeniedError) as denied:
        client.chat.completions.create(model="gpt-4o", messages=HELLO)
    assert _code(denied.value) == "key_model_access_denied"


def test_models_lists_only_what_the_key_may_use(gateway: GatewayProcess) -> None:
    key = _generate(gateway, models=["gpt-4o-mini", "claude-haiku-3-5"])
    listed = {model.id for model in _sdk(gateway, key["key"]).models.list()}
    assert listed == {"gpt-4o-mini", "claude-haiku-3-5"}


def test_budget_is_enforced_once_spend_reaches_it(gateway: GatewayProcess) -> None:
    key = _generate(gateway, max_budget=0.000001, budget_duration="30d")
    client = _sdk(gateway, key["key"])
    client.chat.completions.create(model="gpt-4o", messages=HELLO)  # spend 0 < budget: admitted
    with pytest.raises(openai.RateLimitError) as refused:
        client.chat.completions.create(model="gpt-4o", messages=HELLO)
    assert _code(refused.value) == "budget_exceeded"
    assert int(refused.value.response.headers["retry-after"]) > 29 * 86400


def test_streamed_calls_are_charged_from_the_usage_chunk(gateway: GatewayProcess) -> None:
    key = _generate(gateway, tpm_limit=100_000)
    stream = _sdk(gateway, key["key"]).chat.completions.with_raw_response.create(
        model="claude-sonnet-4-5", messages=HELLO, stream=True
    )
    assert stream.headers["x-ratelimit-limit-tokens"] == "100000"
    chunks: Any = stream.parse()
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert "hello from a tenant" in text
    info = httpx.get(gateway.url + "/key/info", params={"key": key["token_id"]}, headers=ADMIN)
    assert info.json()["info"]["spend"] > 0
    assert info.json()["info"]["model_spend"].keys() == {"claude-sonnet-4-5"}


def test_tpm_refuses_once_the_minute_is_used_up(gateway: GatewayProcess) -> None:
    key = _generate(gateway, tpm=20)
    client = _sdk(gateway, key["key"])
    client.chat.completions.create(model="gpt-4o-mini", messages=HELLO)  # uses > 20 tokens
    with pytest.raises(openai.RateLimitError) as refused:
        client.chat.completions.create(model="gpt-4o-mini", messages=HELLO)
    assert _code(refused.value) == "rate_limit_exceeded"
    assert refused.value.response.headers["x-ratelimit-remaining-tokens"] == "0"


def test_an_expired_key_is_refused_with_expired_key(gateway: GatewayProcess) -> None:
    key = _generate(gateway, duration="1s")
    time.sleep(1.1)  # the expiry itself, not a race: DynamoDB TTL (moto: never) is not relied on
    with pytest.raises(openai.AuthenticationError) as refused:
        _sdk(gateway, key["key"]).chat.completions.create(model="gpt-4o-mini", messages=HELLO)
    assert _code(refused.value) == "expired_key"


def test_master_key_has_no_limits_or_rate_headers(client: openai.OpenAI) -> None:
    raw = client.chat.completions.with_raw_response.create(model="gpt-4o-mini", messages=HELLO)
    assert "x-ratelimit-limit-requests" not in raw.headers
