"""Compress one request's messages: plan, threshold, price rule, engine call within a budget.

Fail-open: any engine error, a timeout or a damaged piece leaves (that part of) the prompt as
it was. The outcome says what happened; the stage turns it into notes, headers and metrics.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

from gateway.compression.config import CompressionConfig
from gateway.compression.engine import ENGINE_NAME, CompressionEngine, EngineError
from gateway.compression.placeholders import PLACEHOLDER
from gateway.compression.plan import count_message_tokens, plan_messages
from gateway.compression.policy import Choice, pays_for_itself
from gateway.compression.pricing import InputPrice
from gateway.compression.tokens import TokenCounter


@dataclass
class Outcome:
    profile: str | None
    engine: str | None
    original_tokens: int = 0
    compressed_tokens: int = 0
    skipped_reason: str | None = None
    fail_open_reason: str | None = None
    messages: list[dict[str, Any]] | None = None  # set only when the prompt was compressed
    latency_s: float | None = None
    pieces_kept_original: int = 0

    @property
    def ratio(self) -> float:
        return self.compressed_tokens / self.original_tokens if self.original_tokens else 1.0

    @property
    def outcome(self) -> str:
        """compressed | skipped | failed (failed = sent uncompressed because the engine failed)."""
        if self.fail_open_reason:
            return "failed"
        return "compressed" if self.messages is not None else "skipped"

    def note(self) -> dict[str, Any]:
        """`ctx.notes["compression"]`: read by the metrics stage (issue 6) and the spend log."""
        return {
            "outcome": self.outcome,
            "original_tokens": self.original_tokens,
            "compressed_tokens": self.compressed_tokens,
            "tokens_saved": self.original_tokens - self.compressed_tokens,
            "ratio": round(self.ratio, 4),
            "profile": self.profile,
            "engine": self.engine,
            "skipped_reason": self.skipped_reason,
            "latency_ms": None if self.latency_s is None else round(self.latency_s * 1000, 1),
            "fail_open_reason": self.fail_open_reason,
        }


class CompressionService:
    def __init__(
        self,
        config: CompressionConfig,
        engine: CompressionEngine | None,
        counter: TokenCounter,
        input_price: InputPrice,
        disabled_reason: str | None = None,
    ) -> None:
        self.config = config
        self.engine = engine
        self.counter = counter
        self.input_price = input_price
        self.disabled_reason = disabled_reason or "disabled"

    async def compress(self, messages: list[dict[str, Any]], model: str, choice: Choice) -> Outcome:
        profile = choice.profile
        engine_name = f"{ENGINE_NAME}/{self.engine.name}" if self.engine else None
        outcome = Outcome(profile.name if profile else "off", engine_name)
        if self.engine is None:
            outcome.skipped_reason = self.disabled_reason
            return outcome
        if profile is None:
            outcome.skipped_reason = "off"
            return outcome
        config = self.config
        plan = plan_messages(
            messages,
            self.counter.count,
            roles=config.compressible_roles,
            min_segment_tokens=config.min_segment_tokens,
            question_max_tokens=config.question_max_tokens,
        )
        outcome.original_tokens = outcome.compressed_tokens = plan.original_tokens
        if plan.compressible_tokens < config.min_tokens:
            outcome.skipped_reason = "below_threshold"
            return outcome
        if not choice.explicit and config.pays_for_itself:
            price = self.input_price(model)
            if not pays_for_itself(config, plan.compressible_tokens, profile.rate, price):
                outcome.skipped_reason = "price_unknown" if price is None else "not_worth_it"
                return outcome
        if config.engine_cost.seconds(plan.compressible_tokens) > config.time_budget_s:
            outcome.skipped_reason = "over_time_budget"  # it would only fail open, at a cost
            return outcome
        started = time.perf_counter()
        try:
            texts = await asyncio.wait_for(
                self.engine.compress(
                    plan.engine_texts(), profile.rate, (*config.force_tokens, PLACEHOLDER)
                ),
                timeout=config.time_budget_s,
            )
        except TimeoutError:
            return self._failed_open(outcome, "timeout", started)
        except EngineError:
            return self._failed_open(outcome, "engine_error", started)
        outcome.latency_s = time.perf_counter() - started
        compressed, outcome.pieces_kept_original = plan.apply(messages, texts)
        tokens = count_message_tokens(compressed, self.counter.count)
        if tokens >= plan.original_tokens:
            outcome.skipped_reason = "no_gain"
            return outcome
        outcome.compressed_tokens = tokens
        outcome.messages = compressed
        return outcome

    @staticmethod
    def _failed_open(outcome: Outcome, reason: str, started: float) -> Outcome:
        outcome.latency_s = time.perf_counter() - started
        outcome.skipped_reason = f"fail_open_{reason}"
        outcome.fail_open_reason = reason
        return outcome
