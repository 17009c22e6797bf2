"""The completion request path: stages around one provider call.

before: stage 1 .. n   (limits and budget, cache lookup, compression, ...)
provider call          (litellm Router, only when no stage answered)
after:  stage n .. 1   (spend, cache store, metrics), when the response or stream has ended
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any

from gateway.catalog import ModelCatalog
from gateway.errors import GatewayError, UpstreamError
from gateway.pipeline import CallContext, Stage
from gateway.providers import ProviderResult, ProviderRouter
from gateway.resolution import resolve
from gateway.usage import usage_of


class CompletionService:
    def __init__(
        self, catalog: ModelCatalog, router: ProviderRouter, stages: Sequence[Stage] = ()
    ) -> None:
        self.catalog = catalog
        self.router = router
        self.stages = tuple(stages)

    async def handle(self, ctx: CallContext) -> ProviderResult:
        """Run the stages and the provider call; a stream is returned still open."""
        entered: list[Stage] = []
        try:
            result = None
            for stage in self.stages:
                entered.append(stage)
                result = await stage.before(ctx)
                if result is not None:
                    break
            if result is None:
                if ctx.provider is None:  # no ModelResolution stage ran (bare service)
                    resolve(self.catalog, ctx)
                result = await self._call_provider(ctx)
        except GatewayError as error:
            ctx.error = error
            await self._after(ctx, entered)
            raise
        result.headers.update(ctx.response_headers)
        if ctx.streaming:
            return ProviderResult(self._finish_stream(ctx, result.body, entered), result.headers)
        ctx.response = _as_dict(result.body)
        ctx.usage = usage_of(ctx.response)
        await self._after(ctx, entered)
        result.headers.update(ctx.response_headers)
        return ProviderResult(ctx.response, result.headers)

    async def _call_provider(self, ctx: CallContext) -> ProviderResult:
        call = {"chat": self.router.chat, "text_completion": self.router.text_completion}
        if ctx.kind == "embedding":
            return await self.router.embedding(ctx.params)
        if not ctx.streaming:
            return await call[ctx.kind](ctx.params)
        wants_usage = bool((ctx.params.get("stream_options") or {}).get("include_usage"))
        ctx.notes["client_wants_stream_usage"] = wants_usage
        # Always ask for usage: spend and limits need it even when the client does not.
        params = {**ctx.params, "stream_options": {"include_usage": True}}
        result = await call[ctx.kind](params)
        return ProviderResult(self.router.stream_chunks(result.body), result.headers)

    async def _finish_stream(
        self, ctx: CallContext, chunks: AsyncIterator[dict[str, Any]], entered: list[Stage]
    ) -> AsyncIterator[dict[str, Any]]:
        """Pass chunks through, remember them, and settle the stages when the stream ends."""
        ctx.chunks = []
        hide_usage_chunk = not ctx.notes.get("client_wants_stream_usage", True)
        produced = False
        try:
            async for chunk in chunks:
                ctx.chunks.append(chunk)
                produced = produced or any(_has_output(c) for c in _choices(chunk))
                if chunk.get("usage"):
                    ctx.usage = usage_of(chunk)
                    if hide_usage_chunk and not chunk.get("choices"):
                        continue
                    if hide_usage_chunk:
                        chunk = {k: v for k, v in chunk.items() if k != "usage"}
                yield chunk
            if not produced and not ctx.usage:
                # litellm ends an unparseable Anthropic, Gemini or Groq stream quietly, with a
                # made-up "stop" and no text or usage: not a success the client should accept.
                raise UpstreamError("The provider's stream ended before the answer was finished.")
        except GatewayError as error:
            ctx.error = error
            raise
        finally:
            await self._after(ctx, entered)

    async def _after(self, ctx: CallContext, entered: list[Stage]) -> None:
        for stage in reversed(entered):
            await stage.after(ctx)


def _choices(chunk: dict[str, Any]) -> list[dict[str, Any]]:
    choices = chunk.get("choices")
    return [c for c in choices if isinstance(c, dict)] if isinstance(choices, list) else []


def _has_output(choice: dict[str, Any]) -> bool:
    raw = choice.get("delta")
    delta: dict[str, Any] = raw if isinstance(raw, dict) else {}
    return any(delta.get(k) for k in ("content", "tool_calls", "function_call")) or bool(
        choice.get("text")
    )


def _as_dict(body: Any) -> dict[str, Any]:
    return body if isinstance(body, dict) else body.model_dump()
