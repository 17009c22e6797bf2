"""X-Ray subsegments for one request, written when it ends with the times it measured.

Phases: `gateway.before_provider` (keys, limits, cache lookup, compression), `provider.call`
(litellm Router, retries included; to the end of the stream) and `gateway.after_provider`
(spend, cache store). Writing them at the end with explicit times avoids holding subsegments open
across the tasks a streamed response runs in. Only active where Powertools' Tracer is (Lambda).
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from gateway.metrics.summary import PROVIDER_ENDED, PROVIDER_STARTED, RequestSummary
from gateway.observability import logger, tracer
from gateway.pipeline import CallContext

_TRACE_HEADER = "x-amzn-trace-id"
_TRACE_ENV = "_X_AMZN_TRACE_ID"


def bind_trace_header(headers: Mapping[str, str]) -> None:
    """Under Lambda Web Adapter the runtime's trace id arrives as a header, not in the process
    environment the X-Ray SDK reads: copy it there (one request per instance at a time)."""
    if tracer.disabled:
        return
    value = headers.get(_TRACE_HEADER)
    if value and os.environ.get(_TRACE_ENV) != value:
        os.environ[_TRACE_ENV] = value


def record_phases(ctx: CallContext, summary: RequestSummary, ended: float) -> None:
    if tracer.disabled:
        return
    try:
        _record(ctx, summary, ended)
    except Exception as error:  # noqa: BLE001 - tracing must never fail a request
        logger.debug("x-ray subsegments not written", extra={"error_type": type(error).__name__})


def _record(ctx: CallContext, summary: RequestSummary, ended: float) -> None:
    from aws_xray_sdk.core import xray_recorder

    def epoch(perf: float) -> float:
        return ctx.started_epoch + (perf - ctx.started)

    root = xray_recorder.begin_subsegment("gateway.request")
    if root is None:
        return
    root.start_time = epoch(ctx.started)
    for key, value in _annotations(summary).items():
        root.put_annotation(key, value)
    provider_started = ctx.notes.get(PROVIDER_STARTED)
    provider_ended = ctx.notes.get(PROVIDER_ENDED, ended)
    if provider_started is None:
        _phase(xray_recorder, "gateway.stages", epoch(ctx.started), epoch(ended))
    else:
        _phase(
            xray_recorder, "gateway.before_provider", epoch(ctx.started), epoch(provider_started)
        )
        _phase(xray_recorder, "provider.call", epoch(provider_started), epoch(provider_ended))
        _phase(xray_recorder, "gateway.after_provider", epoch(provider_ended), epoch(ended))
    xray_recorder.end_subsegment(epoch(ended))


def _phase(recorder: object, name: str, start: float, end: float) -> None:
    sub = recorder.begin_subsegment(name)  # type: ignore[attr-defined]
    if sub is not None:
        sub.start_time = start
        recorder.end_subsegment(end)  # type: ignore[attr-defined]


def _annotations(s: RequestSummary) -> dict[str, str | int | float | bool]:
    notes: dict[str, str | int | float | bool] = {
        "request_id": s.request_id,
        "model": s.model,
        "provider": s.provider or "",
        "status": s.status,
        "cache_status": s.cache_status or "",
        "streaming": s.streaming,
    }
    if s.team_id:
        notes["team_id"] = s.team_id
    if s.key_alias:
        notes["key_alias"] = s.key_alias
    return notes
