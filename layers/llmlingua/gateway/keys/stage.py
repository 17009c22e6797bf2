"""The virtual-key stage of the completion path.

before: model access (after alias resolution) -> budget reservation in the current window ->
        RPM / TPM / parallel limits (one atomic Redis call) -> the tenant's own provider key.
after:  cost from the provider's usage (0 for a cache hit) -> one Valkey round trip releases the
        parallel slot and reservation, counts tokens, adds the cost to the key's window spend
        counter and queues the spend entry on the spend stream (issue 7); the spend flusher
        writes it to DynamoDB off the response path. Valkey unavailable: the spend is written
        synchronously instead (one DynamoDB transaction, idempotent on the request id).

The master key passes straight through: no limits, no Redis, no DynamoDB.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from gateway.errors import BudgetExceeded, DependencyUnavailable, ModelAccessDenied, RateLimited
from gateway.keys import estimate
from gateway.keys.credentials import ProviderCredentials
from gateway.keys.model import KeyRecord
from gateway.limits import Decision, Limiter, Limits
from gateway.observability import logger
from gateway.pipeline import CallContext
from gateway.pricing import PriceBook
from gateway.providers import ProviderResult
from gateway.spend import SpendEntry, SpendLedger, SpendWriteFailed
from gateway.spend_outbox import DEFAULT_STREAM, encode, window_id

CACHE_HITS = ("HIT", "SEMANTIC_HIT")
# _INLINE_REDIS: admission and settlement call the synchronous Redis client on the event loop.
# A Lambda instance serves one request at a time, so the loop has nothing else to run while it
# waits ~0.2 ms for Valkey, and a hop to a worker thread costs more than the call (measured:
# issue 7, docs/performance.md). Only the rare fallbacks (a synchronous DynamoDB spend write
# when Valkey is down) block for longer.
_NOTE = "virtual_key"
_REFUSALS = {
    "parallel": "Too many requests in flight for this key (max_parallel_requests={limit}).",
    "rpm": "Rate limit reached for this key: {limit} requests per minute.",
    "tpm": "Rate limit reached for this key: {limit} tokens per minute.",
}


@dataclass(frozen=True)
class _Admission:
    limits: Limits
    reserved: bool  # a Redis reservation exists and must be settled


class VirtualKeyStage:
    def __init__(
        self,
        limiter: Limiter,
        ledger: SpendLedger,
        prices: PriceBook,
        credentials: Callable[[], ProviderCredentials],
        *,
        default_output_tokens: int = 256,
        fail_open: bool = True,
        spend_stream: str = DEFAULT_STREAM,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._limiter = limiter
        self._ledger = ledger
        self._prices = prices
        self._credentials = credentials
        self._default_output_tokens = default_output_tokens
        self._fail_open = fail_open
        self._stream = spend_stream
        self._clock = clock

    async def before(self, ctx: CallContext) -> ProviderResult | None:
        record: KeyRecord | None = ctx.principal.key
        if ctx.principal.is_master or record is None:
            return None
        if not record.allows_model(ctx.model):
            raise ModelAccessDenied(
                f"This key is not allowed to use the model '{ctx.model}'.", param="model"
            )
        limits = _limits_of(record, self._clock())
        reserved = False
        if record.has_limits:
            reserved = await self._admit(ctx, record, limits)
        ctx.notes[_NOTE] = _Admission(limits, reserved)
        await self._use_tenant_credentials(ctx, record)
        return None

    async def after(self, ctx: CallContext) -> None:
        admission: _Admission | None = ctx.notes.get(_NOTE)
        record: KeyRecord | None = ctx.principal.key
        if admission is None or record is None:
            return
        cached = ctx.notes.get("cache_status") in CACHE_HITS
        usage = ctx.usage or {}
        prompt, completion = usage.get("prompt_tokens", 0), usage.get("completion_tokens", 0)
        cost = Decimal(0) if cached else self._prices.cost(ctx.model, prompt, completion)
        ctx.cost = float(cost)
        entry = None
        if ctx.error is None or cost > 0:
            entry = self._entry(ctx, record, cost, prompt, completion)
        if not admission.reserved and entry is None:
            return
        tokens = 0 if cached else prompt + completion
        self._settle(ctx, record, admission, tokens, entry)  # inline: see _INLINE_REDIS
        if entry is not None:
            spend = record.window_spend(entry.started_epoch) + cost
            if record.soft_budget is not None and spend >= record.soft_budget > spend - cost:
                logger.warning("soft_budget_crossed", extra={"token_id": record.token_id})

    # -- before ---------------------------------------------------------------------------
    async def _admit(self, ctx: CallContext, record: KeyRecord, limits: Limits) -> bool:
        prompt = estimate.prompt_tokens(ctx.kind, ctx.params)
        output = estimate.output_tokens(ctx.kind, ctx.params, self._default_output_tokens)
        cost_estimate = float(self._prices.cost(ctx.model, prompt, output))
        try:
            decision = self._limiter.admit(  # inline: see _INLINE_REDIS
                record.token_id, ctx.request_id, limits, cost_estimate, prompt
            )
        except DependencyUnavailable:
            if not self._fail_open:
                raise
            logger.warning("limits_unavailable_fail_open", extra={"token_id": record.token_id})
            if limits.max_budget is not None and limits.window_spend >= limits.max_budget:
                raise _budget_error(record, limits, {}, self._clock()) from None
            return False
        headers = _rate_headers(limits, decision)
        if decision.refused == "budget":
            raise _budget_error(record, limits, headers, self._clock())
        if decision.refused is not None:
            limit = {"parallel": limits.max_parallel, "rpm": limits.rpm, "tpm": limits.tpm}
            message = _REFUSALS[decision.refused].format(limit=limit[decision.refused])
            headers["Retry-After"] = str(max(decision.retry_after, 1))
            raise RateLimited(message, headers=headers)
        ctx.response_headers.update(headers)
        return True

    async def _use_tenant_credentials(self, ctx: CallContext, record: KeyRecord) -> None:
        if record.credentials is None or ctx.provider not in record.credential_providers:
            return
        opened = await asyncio.to_thread(
            self._credentials().open, record.credentials, record.token_id
        )
        if opened.get(str(ctx.provider)):
            ctx.params["api_key"] = opened[str(ctx.provider)]
            ctx.notes["tenant_credentials"] = True

    # -- after ----------------------------------------------------------------------------
    def _settle(
        self,
        ctx: CallContext,
        record: KeyRecord,
        admission: _Admission,
        tokens: int,
        entry: SpendEntry | None,
    ) -> None:
        """Settle in Valkey (one round trip); without Valkey, write the spend synchronously."""
        outbox = None if entry is None else (self._stream, encode(entry, record.budget_reset_at))
        try:
            decision = self._limiter.settle(
                record.token_id,
                ctx.request_id,
                tokens,
                admission.limits,
                release=admission.reserved,
                cost=None if entry is None else entry.cost,
                outbox=outbox,
            )
        except DependencyUnavailable:
            logger.warning(
                "spend_settle_failed_writing_synchronously", extra={"token_id": record.token_id}
            )
            if entry is not None:
                ctx.notes["spend"] = {
                    "cost": float(entry.cost),
                    "outcome": self._write(entry, record),
                }
            return
        if admission.reserved:
            ctx.response_headers.update(_rate_headers(admission.limits, decision))
        if entry is not None:
            ctx.notes["spend"] = {"cost": float(entry.cost), "outcome": "queued"}

    def _write(self, entry: SpendEntry, record: KeyRecord) -> str:
        try:
            return self._ledger.record(entry, record.budget_reset_at)
        except SpendWriteFailed:
            return "failed"

    def _entry(
        self, ctx: CallContext, record: KeyRecord, cost: Decimal, prompt: int, completion: int
    ) -> SpendEntry:
        compression = ctx.notes.get("compression") or {}
        return SpendEntry(
            key_hash=record.key_hash,
            token_id=record.token_id,
            request_id=ctx.request_id,
            started_epoch=ctx.started_epoch,
            ended_epoch=self._clock(),
            model=ctx.model,
            provider=ctx.provider,
            call_type=ctx.kind,
            cost=cost,
            prompt_tokens=prompt,
            completion_tokens=completion,
            cache_status=ctx.notes.get("cache_status"),
            compression=_compression_of(compression),
            team_id=record.team_id,
            user_id=record.user_id,
            key_alias=record.key_alias,
            budget_duration=record.budget_duration,
        )


def _limits_of(record: KeyRecord, now: float) -> Limits:
    return Limits(
        max_budget=None if record.max_budget is None else float(record.max_budget),
        window_spend=float(record.window_spend(now)),
        window_id=window_id(record, now),
        max_parallel=record.max_parallel_requests,
        rpm=record.rpm_limit,
        tpm=record.tpm_limit,
    )


def _rate_headers(limits: Limits, decision: Decision) -> dict[str, str]:
    headers = {}
    if limits.rpm is not None:
        headers["x-ratelimit-limit-requests"] = str(limits.rpm)
        headers["x-ratelimit-remaining-requests"] = str(decision.remaining_requests(limits))
    if limits.tpm is not None:
        headers["x-ratelimit-limit-tokens"] = str(limits.tpm)
        headers["x-ratelimit-remaining-tokens"] = str(decision.remaining_tokens(limits))
    return headers


def _budget_error(
    record: KeyRecord, limits: Limits, headers: dict[str, str], now: float
) -> BudgetExceeded:
    reset = record.next_budget_reset(now)
    if reset is not None:
        headers = {**headers, "Retry-After": str(max(int(reset - now), 1))}
    return BudgetExceeded(
        f"Budget exceeded for this key: spend {limits.window_spend:.6f} USD "
        f"(plus requests in flight) has reached max_budget {limits.max_budget} USD"
        + (f"; the budget resets in {int(reset - now)} s." if reset is not None else "."),
        headers=headers,
    )


def _compression_of(notes: dict[str, int]) -> dict[str, int]:
    original, compressed = notes.get("original_tokens"), notes.get("compressed_tokens")
    if not isinstance(original, int) or not isinstance(compressed, int) or original <= 0:
        return {}  # absent, or the compression stage skipped this prompt
    return {
        "original_tokens": original,
        "compressed_tokens": compressed,
        "saved_tokens": original - compressed,
    }
