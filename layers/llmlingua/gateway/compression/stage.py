"""CompressionStage: the pipeline stage that shortens long prompts before the provider call.

Always registered, even with compression disabled: it removes the `compression` body field,
which no provider accepts. It sets `ctx.notes["compression"]` (see Outcome.note) and, when it
compressed, x-compression-* response headers; `x-compression-skipped` says why it did not.
"""

from __future__ import annotations

from typing import Any

from gateway.compression.policy import BODY_FIELD, choose_profile, key_setting
from gateway.compression.service import CompressionService, Outcome
from gateway.observability import logger
from gateway.pipeline import CallContext
from gateway.providers import ProviderResult

NOTE = "compression"
QUIET_REASONS = ("disabled", "off")  # no header: nothing to report


class CompressionStage:
    def __init__(self, service: CompressionService) -> None:
        self.service = service

    async def before(self, ctx: CallContext) -> ProviderResult | None:
        body_value = ctx.params.pop(BODY_FIELD, None)
        messages = _messages(ctx)
        if messages is None:
            return None
        choice = choose_profile(
            self.service.config, ctx.request_headers, body_value, key_setting(ctx.principal.key)
        )
        try:
            outcome = await self.service.compress(messages, ctx.model, choice)
        except Exception as error:  # noqa: BLE001 - fail open: compression never breaks a request
            # The type only: an exception's text may quote the prompt.
            logger.error(
                "compression error; the original prompt is sent",
                extra={"error_type": type(error).__name__, "request_id": ctx.request_id},
            )
            profile = choice.profile.name if choice.profile else "off"
            outcome = Outcome(profile, None, skipped_reason="fail_open_internal_error")
            outcome.fail_open_reason = "internal_error"
        ctx.notes[NOTE] = outcome.note()
        _set_headers(ctx, outcome)
        if outcome.messages is not None:
            _put_messages(ctx, outcome.messages)
        if outcome.fail_open_reason:
            logger.warning(
                "compression failed open",
                extra={"reason": outcome.fail_open_reason, "request_id": ctx.request_id},
            )
        return None

    async def after(self, ctx: CallContext) -> None:
        return None


def _messages(ctx: CallContext) -> list[dict[str, Any]] | None:
    if ctx.kind == "chat" and isinstance(ctx.params.get("messages"), list):
        return list(ctx.params["messages"])
    if ctx.kind == "text_completion" and isinstance(ctx.params.get("prompt"), str):
        return [{"role": "user", "content": ctx.params["prompt"]}]
    return None


def _put_messages(ctx: CallContext, messages: list[dict[str, Any]]) -> None:
    if ctx.kind == "chat":
        ctx.params["messages"] = messages
    else:
        ctx.params["prompt"] = messages[0]["content"]


def _set_headers(ctx: CallContext, outcome: Outcome) -> None:
    if outcome.messages is not None:
        ctx.response_headers.update(
            {
                "x-compression-original-tokens": str(outcome.original_tokens),
                "x-compression-compressed-tokens": str(outcome.compressed_tokens),
                "x-compression-ratio": f"{outcome.ratio:.3f}",
                "x-compression-profile": str(outcome.profile),
            }
        )
    elif outcome.skipped_reason and not outcome.skipped_reason.startswith(QUIET_REASONS):
        ctx.response_headers["x-compression-skipped"] = outcome.skipped_reason
