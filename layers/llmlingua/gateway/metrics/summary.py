"""One request's outcome as plain numbers: what metrics, logs, EMF and traces all report."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from gateway.errors import GatewayError
from gateway.pipeline import CallContext

# ctx.notes keys this package writes (the provider call timer) and reads (other stages).
PROVIDER_STARTED = "provider_call_started"
PROVIDER_ENDED = "provider_call_ended"
PROVIDER_HEADERS = "provider_headers"
CACHE_STATUSES = ("HIT", "SEMANTIC_HIT", "MISS", "BYPASS")
COMPRESSION_OUTCOMES = ("compressed", "skipped", "failed")


@dataclass(frozen=True)
class Compression:
    outcome: str
    original_tokens: int
    compressed_tokens: int
    latency_s: float | None

    @property
    def savings_percent(self) -> float:
        if self.original_tokens <= 0:
            return 0.0
        saved = max(self.original_tokens - self.compressed_tokens, 0)
        return 100.0 * saved / self.original_tokens


@dataclass(frozen=True)
class RequestSummary:
    request_id: str
    kind: str
    model: str
    provider: str | None
    team_id: str | None
    key_alias: str | None
    user_id: str | None
    status: int
    error: GatewayError | None
    streaming: bool
    duration_s: float
    provider_s: float | None  # None: no provider call (cache hit, refusal)
    prompt_tokens: int
    completion_tokens: int
    cost: float
    cache_status: str | None
    compression: Compression | None

    @property
    def overhead_s(self) -> float:
        return max(self.duration_s - (self.provider_s or 0.0), 0.0)

    @property
    def error_type(self) -> str | None:
        return type(self.error).__name__ if self.error is not None else None


def summarize(ctx: CallContext, now: float | None = None) -> RequestSummary:
    ended = time.perf_counter() if now is None else now
    usage = ctx.usage or {}
    started = ctx.notes.get(PROVIDER_STARTED)
    provider_s = None
    if started is not None:
        provider_s = max(ctx.notes.get(PROVIDER_ENDED, ended) - started, 0.0)
    return RequestSummary(
        request_id=ctx.request_id,
        kind=ctx.kind,
        model=str(ctx.params.get("model") or ""),
        provider=ctx.provider,
        team_id=ctx.principal.team_id,
        key_alias=ctx.principal.key_alias,
        user_id=ctx.principal.user_id,
        status=ctx.error.status_code if ctx.error is not None else 200,
        error=ctx.error,
        streaming=ctx.streaming,
        duration_s=max(ended - ctx.started, 0.0),
        provider_s=provider_s,
        prompt_tokens=int(usage.get("prompt_tokens") or 0),
        completion_tokens=int(usage.get("completion_tokens") or 0),
        cost=_cost(ctx),
        cache_status=_cache_status(ctx.notes.get("cache_status")),
        compression=_compression(ctx.notes.get("compression")),
    )


def _cost(ctx: CallContext) -> float:
    """ctx.cost (the spend stage's figure) or else what litellm reported for the call."""
    if ctx.cost:
        return float(ctx.cost)
    headers = ctx.notes.get(PROVIDER_HEADERS) or {}
    try:
        return max(float(headers.get("x-litellm-response-cost") or 0.0), 0.0)
    except ValueError:
        return 0.0


def _cache_status(value: Any) -> str | None:
    if value is None:
        return None
    status = str(value).upper().replace(" ", "_")
    return status if status in CACHE_STATUSES else "OTHER"


def _compression(note: Any) -> Compression | None:
    if not isinstance(note, dict):
        return None
    original = _int(note.get("original_tokens"))
    compressed = _int(note.get("compressed_tokens"), default=original)
    outcome = str(note.get("outcome") or note.get("status") or "").lower()
    if note.get("error") or outcome in ("failed", "error", "fail_open"):
        outcome = "failed"
    elif outcome not in COMPRESSION_OUTCOMES:
        outcome = "compressed" if compressed < original else "skipped"
    return Compression(outcome, original, compressed, _latency_s(note))


def _latency_s(note: dict[str, Any]) -> float | None:
    for key, scale in (("latency_s", 1.0), ("latency_seconds", 1.0), ("latency_ms", 1e-3)):
        if isinstance(note.get(key), int | float):
            return float(note[key]) * scale
    return None


def _int(value: Any, default: int = 0) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default
