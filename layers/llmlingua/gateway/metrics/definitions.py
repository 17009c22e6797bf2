"""The Prometheus metrics the gateway exports, with their labels and histogram buckets.

Names follow LiteLLM's proxy where it has one (`litellm_overhead_latency_metric`, ...). Every
label here has a bounded set of values: models and providers come from the config (capped per
instance), teams are capped fleet-wide in Redis, the rest are enumerations.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)
OVERHEAD_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
PERCENT_BUCKETS = (10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0, 80.0, 90.0, 100.0)
COMPRESSION_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

OVERFLOW = "overflow"  # a label value beyond its cap
UNKNOWN = "unknown"  # a label value that was not known
NO_TEAM = "none"  # a caller without a team (the master key, a key without team_id)


@dataclass(frozen=True)
class MetricSpec:
    name: str  # counters: without the `_total` the exposition adds
    kind: Literal["counter", "histogram"]
    help: str
    labels: tuple[str, ...]
    buckets: tuple[float, ...] = ()


_MP = ("model", "provider")
_MPT = ("model", "provider", "team")

SPECS = (
    MetricSpec("litellm_requests", "counter", "Requests by outcome", (*_MPT, "status")),
    MetricSpec(
        "litellm_request_duration_seconds",
        "histogram",
        "Gateway request duration, from routing to the end of the response or stream",
        _MP,
        LATENCY_BUCKETS,
    ),
    MetricSpec(
        "litellm_llm_api_latency_metric",
        "histogram",
        "Time spent in the provider call (litellm Router, retries included), seconds",
        _MP,
        LATENCY_BUCKETS,
    ),
    MetricSpec(
        "litellm_overhead_latency_metric",
        "histogram",
        "Gateway overhead: request duration minus the provider call, seconds",
        _MP,
        OVERHEAD_BUCKETS,
    ),
    MetricSpec("litellm_tokens", "counter", "Tokens by type (prompt|completion)", (*_MPT, "type")),
    MetricSpec("litellm_spend", "counter", "Spend in USD", _MPT),
    MetricSpec("litellm_errors", "counter", "Failed requests by error type", (*_MPT, "error_type")),
    MetricSpec(
        "litellm_rate_limited", "counter", "Requests refused by RPM/TPM/parallel limits", _MPT
    ),
    MetricSpec(
        "litellm_budget_refused", "counter", "Requests refused for an exhausted budget", _MPT
    ),
    MetricSpec(
        "litellm_cache_hit",
        "counter",
        "Cache hits (type exact|semantic)",
        ("model", "team", "type"),
    ),
    MetricSpec("litellm_cache_miss", "counter", "Cache misses", ("model", "team")),
    MetricSpec(
        "litellm_cache_bypass", "counter", "Requests that bypassed the cache", ("model", "team")
    ),
    MetricSpec(
        "litellm_compression_requests",
        "counter",
        "Prompts that reached compression, by outcome (compressed|skipped|failed)",
        ("model", "outcome"),
    ),
    MetricSpec(
        "litellm_compression_savings_percent",
        "histogram",
        "Share of prompt tokens removed by compression, percent",
        ("model",),
        PERCENT_BUCKETS,
    ),
    MetricSpec(
        "litellm_compression_latency_seconds",
        "histogram",
        "Time spent compressing a prompt, seconds",
        ("model",),
        COMPRESSION_BUCKETS,
    ),
    MetricSpec(
        "litellm_compression_tokens",
        "counter",
        "Prompt tokens before and after compression (stage original|compressed)",
        ("model", "stage"),
    ),
)
BY_NAME = {spec.name: spec for spec in SPECS}
