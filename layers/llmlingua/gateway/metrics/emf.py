"""The same signals as CloudWatch metrics, in the Embedded Metric Format (one JSON log line).

Dimensions are the service and the model only (each combination is a billed custom metric);
team and key alias go in as EMF metadata, searchable in Logs Insights but not dimensions.
"""

from __future__ import annotations

from aws_lambda_powertools.metrics import MetricUnit

from gateway.metrics.summary import RequestSummary
from gateway.observability import logger, metrics


def publish(s: RequestSummary, model_label: str) -> None:
    try:
        _publish(s, model_label)
    except Exception as error:  # noqa: BLE001 - metrics must never fail a request
        metrics.clear_metrics()
        logger.debug("emf metrics not written", extra={"error_type": type(error).__name__})


def _publish(s: RequestSummary, model_label: str) -> None:
    metrics.add_dimension("model", model_label)
    add = metrics.add_metric
    add(name="Requests", unit=MetricUnit.Count, value=1)
    add(name="RequestLatency", unit=MetricUnit.Milliseconds, value=s.duration_s * 1000)
    add(name="OverheadLatency", unit=MetricUnit.Milliseconds, value=s.overhead_s * 1000)
    if s.provider_s is not None:
        add(name="ProviderLatency", unit=MetricUnit.Milliseconds, value=s.provider_s * 1000)
    add(name="PromptTokens", unit=MetricUnit.Count, value=s.prompt_tokens)
    add(name="CompletionTokens", unit=MetricUnit.Count, value=s.completion_tokens)
    add(name="SpendUSD", unit=MetricUnit.NoUnit, value=s.cost)
    add(name="Errors", unit=MetricUnit.Count, value=1 if s.error is not None else 0)
    if s.error is not None:
        code = s.error.code
        add(name="RateLimited", unit=MetricUnit.Count, value=int(code == "rate_limit_exceeded"))
        add(name="BudgetRefused", unit=MetricUnit.Count, value=int(code == "budget_exceeded"))
    if s.cache_status is not None:
        hit = s.cache_status in ("HIT", "SEMANTIC_HIT")
        add(name="CacheHits", unit=MetricUnit.Count, value=int(hit))
        add(name="CacheMisses", unit=MetricUnit.Count, value=int(s.cache_status == "MISS"))
    if s.compression is not None and s.compression.outcome == "compressed":
        add(name="CompressionSavings", unit=MetricUnit.Percent, value=s.compression.savings_percent)
    metrics.add_metadata("request_id", s.request_id)
    metrics.add_metadata("status", s.status)
    if s.team_id:
        metrics.add_metadata("team_id", s.team_id)
    if s.key_alias:
        metrics.add_metadata("key_alias", s.key_alias)
    if s.error_type:
        metrics.add_metadata("error_type", s.error_type)
    metrics.flush_metrics()
