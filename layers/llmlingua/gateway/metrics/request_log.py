"""One structured JSON log line per request: who, what, how long, how much. Never the key;
never prompt text unless LOG_PROMPTS=true (a debug setting)."""

from __future__ import annotations

from typing import Any

from gateway.metrics.summary import RequestSummary
from gateway.observability import logger
from gateway.pipeline import CallContext

PROMPT_PARAMS = ("messages", "prompt", "input")


def log_request(ctx: CallContext, s: RequestSummary, *, log_prompts: bool) -> None:
    fields: dict[str, Any] = {
        "request_id": s.request_id,
        "key_alias": s.key_alias,
        "team_id": s.team_id,
        "user_id": s.user_id,
        "call_kind": s.kind,
        "model": s.model,
        "provider": s.provider,
        "status": s.status,
        "stream": s.streaming,
        "duration_ms": round(s.duration_s * 1000, 3),
        "overhead_ms": round(s.overhead_s * 1000, 3),
        "provider_ms": None if s.provider_s is None else round(s.provider_s * 1000, 3),
        "prompt_tokens": s.prompt_tokens,
        "completion_tokens": s.completion_tokens,
        "cost": s.cost,
        "cache_status": s.cache_status,
    }
    if s.compression is not None:
        fields["compression"] = {
            "outcome": s.compression.outcome,
            "original_tokens": s.compression.original_tokens,
            "compressed_tokens": s.compression.compressed_tokens,
            "savings_percent": round(s.compression.savings_percent, 2),
        }
    if s.error is not None:
        fields["error_type"] = s.error_type
        fields["error_code"] = s.error.code
    if log_prompts:
        fields["prompt"] = {k: ctx.params[k] for k in PROMPT_PARAMS if k in ctx.params}
    try:
        if s.error is not None and s.status >= 500:
            logger.warning("request failed", extra=fields)
        else:
            logger.info("request completed", extra=fields)
    except Exception:  # noqa: BLE001, S110 - a log line must never fail a request
        pass
