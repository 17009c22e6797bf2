"""VirtualKeyStage: the completion path's key checks, limits and spend (Valkey + moto)."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest
import redis
from gateway.auth import Principal
from gateway.config import load_config
from gateway.errors import BudgetExceeded, ModelAccessDenied, RateLimited, UpstreamError
from gateway.keys.model import KeyRecord
from gateway.keys.stage import VirtualKeyStage
from gateway.limits import Limiter
from gateway.pipeline import CallContext
from gateway.pricing import PriceBook
from gateway.spend import SpendLedger
from gateway.spend_flush import SpendFlusher
from gateway.spend_outbox import DEFAULT_STREAM
from redis.backoff import NoBackoff
from redis.retry import Retry

from devstack.stack import ROOT
from tests.unit.keys_support import Tables, local_credentials

pytest_plugins = ["tests.unit.keys_support"]

PRICES = PriceBook(load_config(ROOT / "config" / "litellm_config.yaml"))
CREDENTIALS = local_credentials()
BASE = KeyRecord(
    key_hash="a" * 64, token_id="b" * 32, key_name="sk-...abcd", created_at="c", updated_at="u"
)
USAGE = {"prompt_tokens": 1000, "completion_tokens": 100, "total_tokens": 1100}


def _stage(tables: Tables, client: Any) -> VirtualKeyStage:
    ledger = SpendLedger(tables.client, tables.keys, tables.spend_logs, sleep=lambda _: None)
    return VirtualKeyStage(Limiter(client), ledger, PRICES, lambda: CREDENTIALS)


def _flush(tables: Tables, client: Any) -> None:
    """What the spend flusher does off the response path, done now."""
    ledger = SpendLedger(tables.client, tables.keys, tables.spend_logs, sleep=lambda _: None)
    SpendFlusher(client, ledger, DEFAULT_STREAM).drain(claim_idle_ms=0)


def _ctx(record: KeyRecord | None, model: str = "gpt-4o-mini", **params: Any) -> CallContext:
    principal = Principal(
        is_master=record is None, key=record, key_hash=getattr(record, "key_hash", None)
    )
    messages = [{"role": "user", "content": "hello " * 40}]
    ctx = CallContext("chat", principal, {"model": model, "messages": messages, **params})
    ctx.provider = "anthropic" if model.startswith("claude") else "openai"
    return ctx


def _run(coro: Any) -> Any:
    return asyncio.run(coro)


def _complete(stage: VirtualKeyStage, ctx: CallContext, usage: dict | None = USAGE) -> None:
    _run(stage.before(ctx))
    ctx.usage = usage
    _run(stage.after(ctx))


def test_master_key_passes_straight_through(tables: Tables, valkey: redis.Redis) -> None:
    stage, ctx = _stage(tables, valkey), _ctx(None)
    _complete(stage, ctx)
    assert ctx.notes == {} and ctx.response_headers == {} and valkey.dbsize() == 0
    assert tables.spend_items() == []


def test_a_model_outside_the_key_is_403(tables: Tables, valkey: redis.Redis) -> None:
    record = replace(BASE, models=("gpt-4o",))
    with pytest.raises(ModelAccessDenied) as refused:
        _run(_stage(tables, valkey).before(_ctx(record, "gpt-4o-mini")))
    assert (refused.value.status_code, refused.value.code) == (403, "key_model_access_denied")


def test_spend_is_settled_from_the_provider_usage(tables: Tables, valkey: redis.Redis) -> None:
    record = replace(BASE, max_parallel_requests=1, team_id="t")
    tables.store().create(record)
    stage, ctx = _stage(tables, valkey), _ctx(record)
    _complete(stage, ctx)
    expected = PRICES.cost("gpt-4o-mini", 1000, 100)
    assert ctx.cost == float(expected) and ctx.notes["spend"]["outcome"] == "queued"
    _flush(tables, valkey)
    assert tables.store().get(record.key_hash).spend == expected  # type: ignore[union-attr]
    (log,) = tables.spend_items()
    assert log["spend"]["N"] == str(expected) and log["team_id"]["S"] == "t"
    assert valkey.zcard("gw:lim:{" + record.token_id + "}:inflight") == 0  # slot released


def test_rate_limit_headers_and_429_with_retry_after(tables: Tables, valkey: redis.Redis) -> None:
    record = replace(BASE, rpm_limit=2, tpm_limit=100_000)
    tables.store().create(record)
    stage = _stage(tables, valkey)
    first = _ctx(record)
    _complete(stage, first)
    assert first.response_headers["x-ratelimit-limit-requests"] == "2"
    assert first.response_headers["x-ratelimit-remaining-requests"] == "1"
    assert first.response_headers["x-ratelimit-remaining-tokens"] == str(100_000 - 1100)
    _complete(stage, _ctx(record))
    with pytest.raises(RateLimited) as refused:
        _run(stage.before(_ctx(record)))
    error = refused.value
    assert (error.status_code, error.code) == (429, "rate_limit_exceeded")
    assert 1 <= int(error.headers["Retry-After"]) <= 60
    assert error.headers["x-ratelimit-remaining-requests"] == "0"
    assert record.key_hash not in error.message


def test_budget_exceeded_is_429_without_other_data(tables: Tables, valkey: redis.Redis) -> None:
    record = replace(
        BASE,
        max_budget=Decimal("0.01"),
        spend=Decimal("0.01"),
        budget_duration="1d",
        budget_reset_at=4_000_000_000.0,
    )
    with pytest.raises(BudgetExceeded) as refused:
        _run(_stage(tables, valkey).before(_ctx(record)))
    error = refused.value
    assert (error.status_code, error.code) == (429, "budget_exceeded")
    assert int(error.headers["Retry-After"]) > 0
    assert record.key_hash not in error.message and record.token_id not in error.message


def test_a_cache_hit_costs_nothing_and_is_logged_as_such(
    tables: Tables, valkey: redis.Redis
) -> None:
    record = replace(BASE, tpm_limit=10_000)
    tables.store().create(record)
    stage, ctx = _stage(tables, valkey), _ctx(record)
    _run(stage.before(ctx))
    ctx.notes["cache_status"] = "HIT"
    ctx.notes["compression"] = {"original_tokens": 900, "compressed_tokens": 300}
    ctx.usage = USAGE
    _run(stage.after(ctx))
    assert ctx.cost == 0
    _flush(tables, valkey)
    (log,) = tables.spend_items()
    assert log["cache_hit"] == {"BOOL": True} and log["spend"] == {"N": "0"}
    assert log["compression"]["M"]["saved_tokens"] == {"N": "600"}
    assert ctx.response_headers["x-ratelimit-remaining-tokens"] == "10000"  # not counted


def test_a_failed_call_releases_its_slot_and_logs_no_spend(
    tables: Tables, valkey: redis.Redis
) -> None:
    record = replace(BASE, max_parallel_requests=1)
    tables.store().create(record)
    stage, ctx = _stage(tables, valkey), _ctx(record)
    _run(stage.before(ctx))
    ctx.error = UpstreamError("provider error: boom")
    _run(stage.after(ctx))
    _flush(tables, valkey)
    assert tables.spend_items() == []
    _run(stage.before(_ctx(record)))  # the slot is free again


def test_tenant_credentials_are_used_for_their_provider_only(
    tables: Tables, valkey: redis.Redis
) -> None:
    sealed = CREDENTIALS.seal({"openai": "sk-tenant-own-openai"}, BASE.token_id)
    record = replace(BASE, credentials=sealed, credential_providers=("openai",))
    stage = _stage(tables, valkey)
    openai_ctx, anthropic_ctx = _ctx(record), _ctx(record, "claude-sonnet-4-5")
    _run(stage.before(openai_ctx))
    _run(stage.before(anthropic_ctx))
    assert openai_ctx.params["api_key"] == "sk-tenant-own-openai"
    assert "api_key" not in anthropic_ctx.params


def test_redis_down_fails_open_but_budget_still_holds(tables: Tables) -> None:
    unreachable = redis.Redis(port=1, socket_connect_timeout=0.2, retry=Retry(NoBackoff(), 0))
    stage = _stage(tables, unreachable)
    limited = replace(BASE, rpm_limit=1, max_budget=Decimal(1))
    ctx = _ctx(limited)
    _run(stage.before(ctx))
    assert ctx.response_headers == {}
    with pytest.raises(BudgetExceeded):
        _run(stage.before(_ctx(replace(limited, spend=Decimal(1)))))
