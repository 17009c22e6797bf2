"""Langfuse traces over its OpenTelemetry endpoint (OTLP/HTTP, `/api/public/otel/v1/traces`).

One span per request, typed as a Langfuse generation: model, tokens, cost, cache status,
compression savings, key alias and team. Our own span rather than litellm's callback, so cache
hits and refusals (which never reach litellm) are traced too. The OpenTelemetry SDK is imported
only when LANGFUSE_PUBLIC_KEY and LANGFUSE_SECRET_KEY are set; spans go through a batch
processor that the stage flushes before the response ends when running in Lambda.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from gateway.metrics.summary import RequestSummary
from gateway.observability import SERVICE

OTEL_PATH = "/api/public/otel/v1/traces"


class LangfuseTraces:
    def __init__(self, host: str, public_key: str, secret_key: str, timeout: float = 5.0) -> None:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor

        token = base64.b64encode(f"{public_key}:{secret_key}".encode()).decode()
        exporter = OTLPSpanExporter(
            endpoint=host.rstrip("/") + OTEL_PATH,
            headers={"Authorization": f"Basic {token}"},
            timeout=timeout,
        )
        # A provider of our own, not the global one: litellm's OTel callbacks keep theirs.
        self._provider = TracerProvider(resource=Resource.create({"service.name": SERVICE}))
        self._provider.add_span_processor(BatchSpanProcessor(exporter))
        self._tracer = self._provider.get_tracer("llm-gateway")

    def record(
        self, s: RequestSummary, started_epoch: float, ended_epoch: float, io: dict[str, Any]
    ) -> None:
        from opentelemetry.trace import Status, StatusCode

        span = self._tracer.start_span(
            f"litellm-{s.kind}", start_time=int(started_epoch * 1e9), attributes=attributes(s, io)
        )
        if s.error is not None:
            span.set_status(Status(StatusCode.ERROR, s.error.message[:500]))
        span.end(end_time=int(ended_epoch * 1e9))

    def flush(self, timeout_ms: int = 5000) -> bool:
        return bool(self._provider.force_flush(timeout_ms))

    def shutdown(self) -> None:
        self._provider.shutdown()


def attributes(s: RequestSummary, io: dict[str, Any]) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "request_id": s.request_id,
        "key_alias": s.key_alias or "",
        "team_id": s.team_id or "",
        "provider": s.provider or "",
        "status": s.status,
        "cache_status": s.cache_status or "",
        "stream": s.streaming,
        "overhead_ms": round(s.overhead_s * 1000, 3),
    }
    if s.compression is not None:
        meta["compression_outcome"] = s.compression.outcome
        meta["compression_savings_percent"] = round(s.compression.savings_percent, 2)
        meta["compression_original_tokens"] = s.compression.original_tokens
        meta["compression_compressed_tokens"] = s.compression.compressed_tokens
    if s.error is not None:
        meta["error_type"] = s.error_type or ""
    usage = {
        "input": s.prompt_tokens,
        "output": s.completion_tokens,
        "total": s.prompt_tokens + s.completion_tokens,
    }
    attrs: dict[str, Any] = {
        "langfuse.trace.name": f"litellm-{s.kind}",
        "langfuse.trace.tags": [t for t in (s.team_id, s.key_alias, s.model) if t],
        "langfuse.observation.type": "generation",
        "langfuse.observation.model.name": s.model,
        "langfuse.observation.usage_details": json.dumps(usage),
        "langfuse.observation.cost_details": json.dumps({"total": s.cost}),
        "langfuse.observation.level": "ERROR" if s.error is not None else "DEFAULT",
        "gen_ai.system": s.provider or "",
        "gen_ai.request.model": s.model,
        "gen_ai.usage.input_tokens": s.prompt_tokens,
        "gen_ai.usage.output_tokens": s.completion_tokens,
        "gen_ai.usage.cost": s.cost,
    }
    if s.user_id or s.key_alias:
        attrs["user.id"] = s.user_id or s.key_alias
    for key, value in meta.items():
        attrs[f"langfuse.trace.metadata.{key}"] = value
        attrs[f"langfuse.observation.metadata.{key}"] = value
    for key, value in io.items():
        attrs[f"langfuse.observation.{key}"] = json.dumps(value, default=str)
    return attrs
