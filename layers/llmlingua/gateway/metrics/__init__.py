"""Observability: fleet-wide Prometheus metrics in Redis, CloudWatch EMF, structured logs,
X-Ray phases and Langfuse traces, all fed by one pipeline stage. See docs/observability.md."""

from gateway.metrics.factory import flush_telemetry, metrics_stage, scrape_registry
from gateway.metrics.stage import MetricsStage, ProviderCallTimer

__all__ = [
    "MetricsStage",
    "ProviderCallTimer",
    "flush_telemetry",
    "metrics_stage",
    "scrape_registry",
]
