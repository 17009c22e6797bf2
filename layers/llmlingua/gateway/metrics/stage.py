"""MetricsStage (first stage: its `after` sees every outcome) and ProviderCallTimer (last stage:
it brackets the provider call, so overhead = request time - provider time)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from gateway import providers
from gateway.metrics import emf
from gateway.metrics.langfuse import LangfuseTraces
from gateway.metrics.request_log import PROMPT_PARAMS, log_request
from gateway.metrics.series import BoundedLabel, SeriesBuilder, team_label
from gateway.metrics.store import MetricsStore
from gateway.metrics.summary import (
    PROVIDER_ENDED,
    PROVIDER_HEADERS,
    PROVIDER_STARTED,
    RequestSummary,
    summarize,
)
from gateway.metrics.tracing import bind_trace_header, record_phases
from gateway.observability import logger
from gateway.pipeline import CallContext
from gateway.providers import ProviderResult

CALL_ID = "x-litellm-call-id"
COST = "x-litellm-response-cost"
OVERHEAD = "x-litellm-overhead-duration-ms"
RETRIES = "x-litellm-attempted-retries"
FLUSH_TIMEOUT_S = 5.0


class MetricsStage:
    def __init__(
        self,
        store: MetricsStore | None,
        *,
        max_models: int = 200,
        emf_enabled: bool = False,
        langfuse: LangfuseTraces | None = None,
        flush_each_request: bool = False,
        log_prompts: bool = False,
    ) -> None:
        self.store = store
        self.model_label = BoundedLabel(max_models)
        self.emf_enabled = emf_enabled
        self.langfuse = langfuse
        self.flush_each_request = flush_each_request
        self.log_prompts = log_prompts
        self._failure_logged = False

    async def before(self, ctx: CallContext) -> ProviderResult | None:
        ctx.response_headers[CALL_ID] = ctx.request_id
        providers.call_headers.set(None)
        providers.call_extras.set(None)
        bind_trace_header(ctx.request_headers)
        return None

    async def after(self, ctx: CallContext) -> None:
        ended = time.perf_counter()
        try:
            summary = summarize(ctx, ended)
            _set_headers(ctx, summary)
            self._report(ctx, summary, ended)
        except Exception as error:  # noqa: BLE001 - observability must never fail a request
            if not self._failure_logged:
                self._failure_logged = True
                logger.exception("metrics stage failed", extra={"error_type": type(error).__name__})
        if self.flush_each_request:
            await self.flush()

    def _report(self, ctx: CallContext, s: RequestSummary, ended: float) -> None:
        model = self.model_label(s.model)
        if self.store is not None:
            increments = SeriesBuilder(self.model_label).add_request(s)
            self.store.write(team_label(s.team_id), increments)
        if self.emf_enabled:
            emf.publish(s, model)
        log_request(ctx, s, log_prompts=self.log_prompts)
        record_phases(ctx, s, ended)
        if self.langfuse is not None:
            ended_epoch = ctx.started_epoch + (ended - ctx.started)
            self.langfuse.record(s, ctx.started_epoch, ended_epoch, self._io(ctx))

    def _io(self, ctx: CallContext) -> dict[str, Any]:
        if not self.log_prompts:
            return {}
        io: dict[str, Any] = {"input": {k: ctx.params[k] for k in PROMPT_PARAMS if k in ctx.params}}
        if ctx.response is not None:
            io["output"] = ctx.response.get("choices") or ctx.response.get("data")
        return io

    async def flush(self) -> None:
        """Send what telemetry holds (Langfuse spans, litellm's callbacks) before returning."""
        try:
            if self.langfuse is not None:
                await asyncio.wait_for(asyncio.to_thread(self.langfuse.flush), FLUSH_TIMEOUT_S)
            await asyncio.wait_for(providers.flush_callbacks(), FLUSH_TIMEOUT_S)
        except Exception as error:  # noqa: BLE001 - a slow sink must not fail the request
            logger.warning("telemetry flush failed", extra={"error_type": type(error).__name__})


class ProviderCallTimer:
    """Register LAST in stages(): its before runs right before the provider call and its after
    right after it (for a stream: when the stream ends)."""

    async def before(self, ctx: CallContext) -> ProviderResult | None:
        now = time.perf_counter()
        ctx.notes[PROVIDER_STARTED] = now
        # A stream's headers leave before it ends: report the overhead so far.
        ctx.response_headers[OVERHEAD] = _ms(now - ctx.started)
        # Only the provider call gets the call id and key metadata (not the cache's embeddings).
        providers.call_extras.set(_litellm_extras(ctx))
        return None

    async def after(self, ctx: CallContext) -> None:
        ctx.notes.setdefault(PROVIDER_ENDED, time.perf_counter())
        ctx.notes[PROVIDER_HEADERS] = providers.call_headers.get() or {}
        providers.call_extras.set(None)


def _set_headers(ctx: CallContext, s: RequestSummary) -> None:
    target = ctx.error.headers if ctx.error is not None else ctx.response_headers
    target[CALL_ID] = ctx.request_id
    target[OVERHEAD] = _ms(s.overhead_s)
    target[COST] = repr(s.cost)
    if s.provider_s is None:  # answered without a provider call: nothing was retried
        target.setdefault(RETRIES, "0")


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.3f}"


def _litellm_extras(ctx: CallContext) -> dict[str, Any]:
    """What the LiteLLM proxy hands its callbacks: the call id and the caller's key fields."""
    p = ctx.principal
    metadata = {
        "user_api_key_alias": p.key_alias,
        "user_api_key_team_id": p.team_id,
        "user_api_key_user_id": p.user_id,
        "gateway_request_id": ctx.request_id,
    }
    return {"litellm_call_id": ctx.request_id, "metadata": metadata}
