"""Build the metrics stage, the fleet store and the Langfuse exporter from Settings (once)."""

from __future__ import annotations

from functools import lru_cache

from prometheus_client import CollectorRegistry

from gateway.metrics.collector import fleet_registry
from gateway.metrics.langfuse import LangfuseTraces
from gateway.metrics.stage import MetricsStage
from gateway.metrics.store import MetricsStore, redis_client
from gateway.observability import IN_LAMBDA, logger
from gateway.settings import Settings, get_settings


@lru_cache(maxsize=1)
def metrics_store() -> MetricsStore | None:
    settings = get_settings()
    if not settings.metrics_enabled or not settings.redis_url:
        return None
    url, timeout = settings.redis_url, settings.metrics_redis_timeout
    return MetricsStore(
        lambda: redis_client(url, timeout),
        prefix=settings.metrics_redis_prefix,
        max_teams=settings.metrics_max_teams,
    )


@lru_cache(maxsize=1)
def langfuse_traces() -> LangfuseTraces | None:
    settings = get_settings()
    if not (settings.langfuse_public_key and settings.langfuse_secret_key):
        return None
    try:
        return LangfuseTraces(
            settings.langfuse_host,
            settings.langfuse_public_key,
            settings.langfuse_secret_key.get_secret_value(),
        )
    except ImportError as error:  # the OpenTelemetry SDK is not installed: no traces, no failure
        logger.warning("langfuse disabled: opentelemetry-sdk missing", extra={"error": str(error)})
        return None


def metrics_stage(settings: Settings | None = None) -> MetricsStage:
    settings = settings or get_settings()
    return MetricsStage(
        metrics_store(),
        max_models=settings.metrics_max_models,
        emf_enabled=IN_LAMBDA if settings.metrics_emf is None else settings.metrics_emf,
        langfuse=langfuse_traces(),
        flush_each_request=(
            IN_LAMBDA
            if settings.telemetry_flush_each_request is None
            else settings.telemetry_flush_each_request
        ),
        log_prompts=settings.log_prompts,
    )


def scrape_registry() -> CollectorRegistry:
    """The registry GET /metrics serves: the fleet's totals read from Redis."""
    store = metrics_store()
    return fleet_registry(store.read if store is not None else None)


def flush_telemetry(timeout_ms: int = 5000) -> None:
    """Flush Langfuse spans (sync; for the Lambda handler wrapper, after the response)."""
    if langfuse_traces.cache_info().currsize:
        traces = langfuse_traces()
        if traces is not None:
            traces.flush(timeout_ms)
