"""MetricsStage through the real CompletionService: outcomes become fleet counters, headers,
EMF and log lines. Stages standing in for cache/limits/compression answer or refuse in `before`,
so no provider is called (the provider path is covered in tests/integration)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from gateway.auth import Principal
from gateway.catalog import ModelCatalog
from gateway.completions import CompletionService
from gateway.config import parse_config
from gateway.errors import GatewayError, RateLimited
from gateway.metrics import MetricsStage, ProviderCallTimer
from gateway.metrics.collector import fleet_registry
from gateway.metrics.store import MetricsStore, redis_client
from gateway.pipeline import CallContext
from gateway.providers import ProviderResult, ProviderRouter
from gateway.resolution import ModelResolution
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from devstack.ports import free_port
from devstack.valkey import LocalValkey

pytestmark = pytest.mark.anyio

ENV = {"OPENAI_API_KEY": "sk-fake-provider-key"}
_DEPLOYMENT = {"model": "openai/gpt-4o-mini", "api_key": "os.environ/OPENAI_API_KEY"}
CONFIG = parse_config({"model_list": [{"model_name": "m", "litellm_params": _DEPLOYMENT}]})
ANSWER = {
    "id": "cached",
    "object": "chat.completion",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}}],
    "usage": {"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10},
}
PROMPT = "a secret plan about penguins"


class Answers:
    """Stands in for a cache hit: answers in `before` and notes what it did."""

    def __init__(self, notes: dict[str, Any]) -> None:
        self.notes = notes

    async def before(self, ctx: CallContext) -> ProviderResult | None:
        ctx.notes.update(self.notes)
        return ProviderResult(dict(ANSWER), {})

    async def after(self, ctx: CallContext) -> None:
        return None


class Refuses:
    """Stands in for the limits stage refusing a request."""

    def __init__(self, error: GatewayError) -> None:
        self.error = error

    async def before(self, ctx: CallContext) -> ProviderResult | None:
        raise self.error

    async def after(self, ctx: CallContext) -> None:
        return None


@pytest.fixture(scope="module")
def valkey() -> Iterator[LocalValkey]:
    with LocalValkey(with_search=False) as server:
        yield server


@pytest.fixture
def store(valkey: LocalValkey, request: pytest.FixtureRequest) -> MetricsStore:
    return MetricsStore(lambda: redis_client(valkey.url, 1.0), prefix=f"stage:{request.node.name}")


def _service(metrics: MetricsStage, *stages: Any) -> CompletionService:
    catalog = ModelCatalog(CONFIG, ENV)
    return CompletionService(
        catalog,
        ProviderRouter(CONFIG, ENV),
        [metrics, ModelResolution(catalog), *stages, ProviderCallTimer()],
    )


def _ctx() -> CallContext:
    principal = Principal(is_master=False, key_alias="team-key", team_id="team-x")
    return CallContext(
        "chat", principal, {"model": "m", "messages": [{"role": "user", "content": PROMPT}]}
    )


def _series(store: MetricsStore) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    text = generate_latest(fleet_registry(store.read)).decode()
    out: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out.setdefault(s.name, {})[tuple(sorted(s.labels.items()))] = s.value
    return out


def _one(series: dict[str, Any], name: str, **labels: str) -> float:
    matches = [
        v for k, v in series.get(name, {}).items() if all((n, labels[n]) in k for n in labels)
    ]
    assert len(matches) == 1, (name, labels, series.get(name))
    return float(matches[0])


async def test_a_cache_hit_is_counted_with_tokens_and_gets_litellm_headers(
    store: MetricsStore,
) -> None:
    service = _service(MetricsStage(store), Answers({"cache_status": "HIT"}))
    result = await service.handle(_ctx())
    series = _series(store)
    labels = {"model": "m", "team": "team-x"}
    assert _one(series, "litellm_cache_hit_total", type="exact", **labels) == 1
    assert _one(series, "litellm_requests_total", status="200", provider="openai", **labels) == 1
    assert _one(series, "litellm_tokens_total", type="prompt", **labels) == 7
    assert _one(series, "litellm_tokens_total", type="completion", **labels) == 3
    assert "litellm_llm_api_latency_metric_count" not in series  # no provider call
    assert result.headers["x-litellm-call-id"].startswith("chatcmpl-")
    assert result.headers["x-litellm-response-cost"] == "0.0"
    assert result.headers["x-litellm-attempted-retries"] == "0"
    assert float(result.headers["x-litellm-overhead-duration-ms"]) >= 0


async def test_a_rate_limit_refusal_is_counted_and_its_error_carries_headers(
    store: MetricsStore,
) -> None:
    service = _service(MetricsStage(store), Refuses(RateLimited("slow down")))
    with pytest.raises(RateLimited) as refused:
        await service.handle(_ctx())
    series = _series(store)
    assert _one(series, "litellm_rate_limited_total", team="team-x") == 1
    assert _one(series, "litellm_errors_total", error_type="RateLimited") == 1
    assert _one(series, "litellm_requests_total", status="429") == 1
    assert "litellm_budget_refused_total" not in series
    assert refused.value.headers["x-litellm-call-id"].startswith("chatcmpl-")


async def test_a_budget_refusal_is_counted_apart_from_rate_limits(store: MetricsStore) -> None:
    refusal = RateLimited("Budget exceeded", code="budget_exceeded")
    with pytest.raises(RateLimited):
        await _service(MetricsStage(store), Refuses(refusal)).handle(_ctx())
    series = _series(store)
    assert _one(series, "litellm_budget_refused_total", team="team-x") == 1
    assert "litellm_rate_limited_total" not in series


async def test_compression_notes_become_savings_and_latency(store: MetricsStore) -> None:
    note = {"original_tokens": 1000, "compressed_tokens": 400, "ratio": 2.5, "latency_ms": 80}
    service = _service(MetricsStage(store), Answers({"compression": note, "cache_status": "MISS"}))
    await service.handle(_ctx())
    series = _series(store)
    assert _one(series, "litellm_compression_requests_total", outcome="compressed") == 1
    assert _one(series, "litellm_compression_savings_percent_sum", model="m") == pytest.approx(60)
    assert _one(series, "litellm_compression_savings_percent_bucket", le="60.0") == 1
    assert _one(series, "litellm_compression_savings_percent_bucket", le="50.0") == 0
    assert _one(series, "litellm_compression_latency_seconds_sum") == pytest.approx(0.08)
    assert _one(series, "litellm_compression_tokens_total", stage="original") == 1000
    assert _one(series, "litellm_compression_tokens_total", stage="compressed") == 400
    assert _one(series, "litellm_cache_miss_total", team="team-x") == 1


async def test_a_request_succeeds_when_redis_is_down() -> None:
    url = f"redis://127.0.0.1:{free_port()}/0"
    down = MetricsStore(lambda: redis_client(url, 0.2), prefix="down")
    result = await _service(MetricsStage(down), Answers({})).handle(_ctx())
    assert result.body["id"] == "cached"
    assert down.dropped == 1


async def test_emf_line_carries_the_same_signals(
    store: MetricsStore, capsys: pytest.CaptureFixture[str]
) -> None:
    service = _service(MetricsStage(store, emf_enabled=True), Answers({"cache_status": "HIT"}))
    await service.handle(_ctx())
    emf = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    assert len(emf) == 1
    names = {m["Name"] for m in emf[0]["_aws"]["CloudWatchMetrics"][0]["Metrics"]}
    assert {"Requests", "RequestLatency", "OverheadLatency", "CacheHits", "SpendUSD"} <= names
    assert emf[0]["model"] == "m" and emf[0]["team_id"] == "team-x"
    assert emf[0]["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["model", "service"]]


async def test_the_request_log_has_ids_and_no_prompt_text(
    store: MetricsStore, caplog: pytest.LogCaptureFixture
) -> None:
    ctx = _ctx()
    await _service(MetricsStage(store), Answers({"cache_status": "HIT"})).handle(ctx)
    (record,) = [r for r in caplog.records if r.getMessage() == "request completed"]
    assert record.request_id == ctx.request_id  # type: ignore[attr-defined]
    assert record.key_alias == "team-key"  # type: ignore[attr-defined]
    assert record.cache_status == "HIT"  # type: ignore[attr-defined]
    assert PROMPT not in json.dumps(record.__dict__, default=str)


async def test_prompt_text_is_logged_only_with_the_debug_setting(
    store: MetricsStore, caplog: pytest.LogCaptureFixture
) -> None:
    await _service(MetricsStage(store, log_prompts=True), Answers({})).handle(_ctx())
    (record,) = [r for r in caplog.records if r.getMessage() == "request completed"]
    assert PROMPT in json.dumps(record.prompt)  # type: ignore[attr-defined]
