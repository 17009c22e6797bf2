"""CompressionStage end to end in process, with a stand-in for the ML engine (an outside system
like a provider): what reaches the provider, notes, headers, thresholds, price rule, fail-open."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import pytest
from gateway.auth import Principal
from gateway.compression.config import CompressionConfig, EngineCost
from gateway.compression.engine import EngineError
from gateway.compression.pricing import input_price_of
from gateway.compression.service import CompressionService
from gateway.compression.stage import CompressionStage
from gateway.compression.tokens import token_counter
from gateway.config import load_config
from gateway.pipeline import CallContext

from devstack.stack import ROOT

PARAGRAPH = " ".join(
    ["The committee reviewed the revised budget for the coming quarter and asked for detail."] * 6
)
DOCUMENT = "\n\n".join([PARAGRAPH] * 12)  # ~1,100 tokens of prose
QUESTION = "Given the notes above, what did the committee decide about the 2025 budget?"
CODE = "```python\nprint(sum([1, 2, 3]))\n```"


class WordDroppingEngine:
    """Keeps force tokens and every other word, like a compressor at rate 0.5."""

    name = "test-double"

    def __init__(self, fail: Exception | None = None, hang: bool = False) -> None:
        self.fail, self.hang, self.calls = fail, hang, 0

    async def compress(
        self, texts: Sequence[str], rate: float, force_tokens: Sequence[str]
    ) -> list[str]:
        self.calls += 1
        if self.hang:
            await asyncio.Event().wait()
        if self.fail:
            raise self.fail
        return [
            " ".join(w for i, w in enumerate(t.split(" ")) if i % 2 == 0 or w in force_tokens)
            for t in texts
        ]


def make_stage(engine: Any, **overrides: Any) -> CompressionStage:
    config = CompressionConfig(time_budget_s=overrides.pop("budget", 5.0), **overrides)
    prices = input_price_of(load_config(ROOT / "config" / "litellm_config.yaml"))
    return CompressionStage(CompressionService(config, engine, token_counter(), prices))


def chat(
    model: str = "claude-opus-4-1", *, headers: dict | None = None, key: Any = None, **params: Any
) -> CallContext:
    messages = params.pop("messages", None) or [
        {"role": "system", "content": "You answer from the notes only."},
        {"role": "user", "content": f"{DOCUMENT}\n\n{CODE}\n\n{QUESTION}"},
    ]
    return CallContext(
        "chat",
        Principal(is_master=True, key=key),
        {"model": model, "messages": messages, **params},
        headers or {},
    )


def run(stage: CompressionStage, ctx: CallContext) -> CallContext:
    assert asyncio.run(stage.before(ctx)) is None  # never answers instead of the provider
    return ctx


def test_long_prompt_on_an_expensive_model_is_compressed_keeping_what_must_stay() -> None:
    ctx = run(make_stage(WordDroppingEngine()), chat())
    system, user = ctx.params["messages"]
    assert system == {"role": "system", "content": "You answer from the notes only."}
    assert user["role"] == "user"
    assert user["content"].endswith(f"{CODE}\n\n{QUESTION}")
    note = ctx.notes["compression"]
    assert note["outcome"] == "compressed" and note["profile"] == "default"
    assert note["compressed_tokens"] < 0.7 * note["original_tokens"]
    assert note["tokens_saved"] == note["original_tokens"] - note["compressed_tokens"]
    assert set(note) >= {
        "original_tokens",
        "compressed_tokens",
        "ratio",
        "profile",
        "engine",
        "skipped_reason",
    }
    assert ctx.response_headers["x-compression-original-tokens"] == str(note["original_tokens"])
    assert ctx.response_headers["x-compression-compressed-tokens"] == str(note["compressed_tokens"])
    assert float(ctx.response_headers["x-compression-ratio"]) == pytest.approx(note["ratio"], 1e-3)


def test_short_prompts_pass_untouched() -> None:
    messages = [{"role": "user", "content": "hello there"}]
    ctx = run(make_stage(engine := WordDroppingEngine()), chat(messages=messages))
    assert ctx.params["messages"] == messages and engine.calls == 0
    assert ctx.notes["compression"]["skipped_reason"] == "below_threshold"
    assert ctx.response_headers == {"x-compression-skipped": "below_threshold"}


def test_cheap_model_is_skipped_unless_the_request_names_a_profile() -> None:
    # 7 GB-s per 1k tokens: more than gpt-4o-mini's saved input tokens are worth
    cost = EngineCost(seconds_per_1k_tokens=2.0, memory_gb=3.5)
    stage = make_stage(WordDroppingEngine(), engine_cost=cost)
    skipped = run(stage, chat("gpt-4o-mini"))
    assert skipped.notes["compression"]["skipped_reason"] == "not_worth_it"
    named = run(stage, chat("gpt-4o-mini", headers={"x-compression-profile": "rag"}))
    assert named.notes["compression"]["outcome"] == "compressed"
    assert named.notes["compression"]["profile"] == "rag"


def test_body_field_is_removed_before_the_provider_call_even_when_disabled() -> None:
    stage = CompressionStage(
        CompressionService(
            CompressionConfig(), None, token_counter(), lambda _: None, "disabled:no_model"
        )
    )
    ctx = run(stage, chat(compression="rag"))
    assert "compression" not in ctx.params
    assert ctx.notes["compression"]["skipped_reason"] == "disabled:no_model"
    assert ctx.response_headers == {}


def test_key_that_disables_compression_wins() -> None:
    ctx = run(
        make_stage(WordDroppingEngine()),
        chat(key={"metadata": {"compression": "off"}}, compression="rag"),
    )
    assert ctx.notes["compression"]["skipped_reason"] == "off"


@pytest.mark.parametrize(
    ("engine", "reason"),
    [
        (WordDroppingEngine(fail=EngineError("down")), "fail_open_engine_error"),
        (WordDroppingEngine(hang=True), "fail_open_timeout"),
    ],
)
def test_engine_failure_or_timeout_fails_open(engine: Any, reason: str) -> None:
    ctx = chat()
    original = [dict(m) for m in ctx.params["messages"]]
    run(make_stage(engine, budget=0.05, engine_cost=EngineCost(seconds_per_1k_tokens=0.01)), ctx)
    assert ctx.params["messages"] == original
    assert ctx.notes["compression"]["outcome"] == "failed"
    assert ctx.notes["compression"]["skipped_reason"] == reason
    assert ctx.response_headers == {"x-compression-skipped": reason}


class ShortChangingEngine(WordDroppingEngine):
    """Answers with one text too few: a broken engine."""

    async def compress(
        self, texts: Sequence[str], rate: float, force_tokens: Sequence[str]
    ) -> list[str]:
        return (await super().compress(texts, rate, force_tokens))[:-1]


def test_any_unexpected_error_fails_open_too() -> None:
    ctx = chat()
    original = [dict(m) for m in ctx.params["messages"]]
    run(make_stage(ShortChangingEngine()), ctx)
    assert ctx.params["messages"] == original
    assert ctx.notes["compression"]["outcome"] == "failed"
    assert ctx.response_headers == {"x-compression-skipped": "fail_open_internal_error"}


def test_prompt_that_cannot_be_compressed_within_the_budget_is_not_attempted() -> None:
    engine = WordDroppingEngine()
    ctx = run(
        make_stage(engine, budget=1.0, engine_cost=EngineCost(seconds_per_1k_tokens=2.0)),
        chat(headers={"x-compression-profile": "default"}),
    )
    assert engine.calls == 0
    assert ctx.notes["compression"]["skipped_reason"] == "over_time_budget"


def test_multipart_content_and_tool_messages_keep_their_structure() -> None:
    image = {"type": "image_url", "image_url": {"url": "https://img.test/a.png"}}
    tool_call = {
        "id": "call_1",
        "type": "function",
        "function": {"name": "search", "arguments": '{"q": "budget"}'},
    }
    messages = [
        {"role": "user", "content": [{"type": "text", "text": DOCUMENT}, image]},
        {"role": "assistant", "content": None, "tool_calls": [tool_call]},
        {"role": "tool", "tool_call_id": "call_1", "content": '{"result": [1, 2, 3]}'},
        {"role": "user", "content": QUESTION},
    ]
    ctx = run(make_stage(WordDroppingEngine()), chat(messages=messages))
    out = ctx.params["messages"]
    assert [m["role"] for m in out] == ["user", "assistant", "tool", "user"]
    assert out[0]["content"][1] == image and len(out[0]["content"][0]["text"]) < len(DOCUMENT)
    assert out[1:] == messages[1:]


def test_text_completion_prompt_is_compressed_too() -> None:
    ctx = CallContext(
        "text_completion",
        Principal(is_master=True),
        {"model": "claude-opus-4-1", "prompt": f"{DOCUMENT}\n\n{QUESTION}"},
    )
    run(make_stage(WordDroppingEngine()), ctx)
    assert ctx.params["prompt"].endswith(QUESTION)
    assert len(ctx.params["prompt"]) < len(DOCUMENT)
