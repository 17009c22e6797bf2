"""The cache stage against real Valkey: with vector search (FT.*) and without (fallback)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from gateway.cache import events
from gateway.cache.client import cache_redis
from gateway.cache.stage import CacheStage
from gateway.embeddings.onnx_local import LocalOnnxEmbedder
from gateway.pipeline import CallContext

from devstack.valkey import LocalValkey
from tests.cache_support import answer, chat, ensure_embedding_model, make_stage, principal

# The first test here may build the embedding model (`make embedding-model`: a download and
# a few seconds of work on a fresh machine), so allow more than the suite's 120 s.
pytestmark = [pytest.mark.anyio, pytest.mark.timeout(600)]


@pytest.fixture(scope="module")
def embedder() -> LocalOnnxEmbedder:
    return LocalOnnxEmbedder(ensure_embedding_model())


@pytest.fixture(scope="module", params=["search", "fallback"])
def valkey(request: pytest.FixtureRequest) -> Iterator[LocalValkey]:
    with LocalValkey(with_search=request.param == "search") as server:
        yield server


def client_for(url: str, timeout: float = 0.5) -> Any:
    return lambda: cache_redis(
        url, socket_timeout=timeout, connect_timeout=timeout, max_connections=8
    )


@pytest.fixture
def stage(
    valkey: LocalValkey, embedder: LocalOnnxEmbedder, request: pytest.FixtureRequest
) -> CacheStage:
    # A namespace per test: entries of one test never answer another's.
    namespace = "t:" + re.sub(r"\W", "_", request.node.name)
    return make_stage(client_for(valkey.url), embedder, namespace=namespace)


async def serve(stage: CacheStage, ctx: CallContext, provider_answer: dict[str, Any]) -> Any:
    """What CompletionService does around one stage: before, else 'the provider', then after."""
    result = await stage.before(ctx)
    if result is None:
        ctx.response = provider_answer
        await stage.after(ctx)
        return provider_answer
    if ctx.streaming:
        ctx.chunks = [chunk async for chunk in result.body]
        await stage.after(ctx)
        return ctx.chunks
    ctx.response = result.body
    await stage.after(ctx)
    return result.body


async def test_same_request_twice_is_an_exact_hit_with_the_same_key(stage: CacheStage) -> None:
    first = chat("What is the capital of France?")
    await serve(stage, first, answer("Paris."))
    second = chat("What is the capital of France?")
    body = await serve(stage, second, answer("never used"))
    assert first.notes["cache_status"] == "MISS"
    assert second.response_headers["x-cache-status"] == "HIT"
    assert (
        second.response_headers["x-litellm-cache-key"]
        == first.response_headers["x-litellm-cache-key"]
    )
    assert body["choices"][0]["message"]["content"] == "Paris."


async def test_paraphrase_is_a_semantic_hit_and_a_near_miss_is_not(stage: CacheStage) -> None:
    await serve(stage, chat("What is the capital of France?"), answer("Paris."))
    paraphrase = chat("Which city is the capital of France?")
    body = await serve(stage, paraphrase, answer("never used"))
    assert paraphrase.notes["cache_status"] == "SEMANTIC_HIT"
    assert float(paraphrase.response_headers["x-cache-similarity"]) >= 0.8
    assert body["choices"][0]["message"]["content"] == "Paris."
    other = chat("What is the capital of Germany?")
    await serve(stage, other, answer("Berlin."))
    assert other.notes["cache_status"] == "MISS"


async def test_tenants_never_share_entries(stage: CacheStage) -> None:
    await serve(stage, chat("Explain recursion.", who=principal(team="red")), answer("red answer"))
    for who in (principal(team="blue"), principal(key_hash="k" * 64), principal()):
        ctx = chat("Explain recursion.", who=who)
        body = await serve(stage, ctx, answer("own answer"))
        assert ctx.notes["cache_status"] == "MISS"
        assert body["choices"][0]["message"]["content"] == "own answer"
    same_team = chat("Explain recursion.", who=principal(team="red", key_hash="other-key"))
    await serve(stage, same_team, answer("unused"))
    assert same_team.notes["cache_status"] == "HIT"  # the team, not the key, is the tenant


@pytest.mark.parametrize(
    "change",
    [
        {"model": "gpt-4o"},
        {"temperature": 1.5},
        {"max_tokens": 5},
        {"tools": [{"type": "function", "function": {"name": "f"}}]},
    ],
)
async def test_a_different_model_or_parameter_misses_both_tiers(
    stage: CacheStage, change: dict[str, Any]
) -> None:
    await serve(stage, chat("How do vaccines work?"), answer("cached"))
    for text in ("How do vaccines work?", "Explain how vaccines work."):
        ctx = chat(text, **change)
        assert await stage.before(ctx) is None
        assert ctx.notes["cache_status"] == "MISS", text


async def test_stream_fields_do_not_change_the_key(stage: CacheStage) -> None:
    await serve(stage, chat("What is DNS?", user="alice"), answer("Names to addresses."))
    ctx = chat("What is DNS?", user="bob", stream=False, metadata={"x": 1})
    await serve(stage, ctx, answer("unused"))
    assert ctx.notes["cache_status"] == "HIT"


async def test_no_cache_skips_the_lookup_but_stores_and_is_removed_from_the_params(
    stage: CacheStage,
) -> None:
    await serve(stage, chat("What is an API?"), answer("old"))
    ctx = chat("What is an API?", cache={"no-cache": True})
    body = await serve(stage, ctx, answer("new"))
    assert ctx.notes["cache_status"] == "BYPASS"
    assert "cache" not in ctx.params
    assert body["choices"][0]["message"]["content"] == "new"
    header = chat("What is an API?", headers={"cache-control": "no-cache"})
    await serve(stage, header, answer("newer"))
    assert header.notes["cache_status"] == "BYPASS"


async def test_no_store_answers_without_storing(stage: CacheStage) -> None:
    for _ in range(2):
        ctx = chat("What is SQL injection?", cache={"no-store": True})
        await serve(stage, ctx, answer("fresh"))
        assert ctx.notes["cache_status"] == "MISS"
    header = chat("What is SQL injection?", headers={"Cache-Control": "no-store"})
    await serve(stage, header, answer("fresh"))
    assert header.notes["cache_status"] == "MISS"


async def test_entries_expire_by_ttl_and_a_request_may_set_its_own(
    stage: CacheStage, valkey: LocalValkey
) -> None:
    default, custom = chat("What is DNS?"), chat("What is Kubernetes?", cache={"ttl": 60})
    await serve(stage, default, answer("a"))
    await serve(stage, custom, answer("b"))
    import redis

    raw = redis.Redis.from_url(valkey.url)
    ttls = {raw.ttl(k) for k in raw.scan_iter(f"{stage.policy.namespace}:s:*")}
    assert any(3500 < t <= 3600 for t in ttls) and any(0 < t <= 60 for t in ttls)


async def test_a_corrupt_entry_is_ignored_and_deleted(
    stage: CacheStage, valkey: LocalValkey
) -> None:
    first = chat("What is gravity?")
    await serve(stage, first, answer("pull"))
    import redis

    raw = redis.Redis.from_url(valkey.url)
    (key,) = [
        k
        for k in raw.scan_iter(f"{stage.policy.namespace}:s:*")
        if k.endswith(first.response_headers["x-litellm-cache-key"].encode())
    ]
    raw.hset(key, "r", b"{not json")
    before = events.counters["corrupt_entry"]
    again = chat("What is gravity?")
    body = await serve(stage, again, answer("fresh"))
    assert again.notes["cache_status"] == "MISS"
    assert body["choices"][0]["message"]["content"] == "fresh"
    assert events.counters["corrupt_entry"] == before + 1


async def test_a_stream_is_stored_and_replayed_as_chunks(stage: CacheStage) -> None:
    streamed = chat("Write a haiku about autumn.", stream=True)
    assert await stage.before(streamed) is None
    text = "Leaves fall slowly down, the quiet ground waits."
    streamed.chunks = [
        {"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "gpt-4o-mini",
         "choices": [{"index": 0, "delta": {"role": "assistant", "content": text[:20]}}]},
        {"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "gpt-4o-mini",
         "choices": [{"index": 0, "delta": {"content": text[20:]}, "finish_reason": "stop"}]},
        {"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "gpt-4o-mini",
         "choices": [], "usage": {"prompt_tokens": 6, "completion_tokens": 11, "total_tokens": 17}},
    ]  # fmt: skip
    await stage.after(streamed)
    replayed = chat(
        "Write a haiku about autumn.", stream=True, stream_options={"include_usage": True}
    )
    chunks = await serve(stage, replayed, answer("unused"))
    assert replayed.notes["cache_status"] == "HIT"
    assert (
        "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])
        == text
    )
    assert chunks[-1]["usage"]["total_tokens"] == 17
    assert [c["choices"][0]["finish_reason"] for c in chunks if c["choices"]][-1] == "stop"
    whole = chat("Write a haiku about autumn.")
    body = await serve(stage, whole, answer("unused"))
    assert body["choices"][0]["message"]["content"] == text


async def test_an_unfinished_stream_is_not_stored(stage: CacheStage) -> None:
    streamed = chat("Tell me a long story.", stream=True)
    await stage.before(streamed)
    streamed.chunks = [{"id": "c", "choices": [{"index": 0, "delta": {"content": "Once upon"}}]}]
    await stage.after(streamed)
    again = chat("Tell me a long story.")
    await serve(stage, again, answer("fresh"))
    assert again.notes["cache_status"] == "MISS"


async def test_a_keys_threshold_override_applies(stage: CacheStage) -> None:
    strict = {"metadata": {"cache": {"similarity_threshold": 0.99}}}
    who = principal(team="strict", key=strict)
    await serve(stage, chat("What is the capital of France?", who=who), answer("Paris."))
    ctx = chat("Which city is the capital of France?", who=who)
    await serve(stage, ctx, answer("fresh"))
    assert ctx.notes["cache_status"] == "MISS"


async def test_embeddings_use_the_exact_tier(stage: CacheStage) -> None:
    body = {
        "object": "list",
        "data": [{"object": "embedding", "index": 0, "embedding": [0.1, 0.2]}],
        "model": "e",
    }
    for expected in ("MISS", "HIT"):
        ctx = CallContext(
            "embedding", principal(), {"model": "text-embedding-3-small", "input": "hi"}, {}
        )
        await serve(stage, ctx, body)
        assert ctx.notes["cache_status"] == expected


async def test_a_tenants_entries_are_capped(
    valkey: LocalValkey, embedder: LocalOnnxEmbedder
) -> None:
    stage = make_stage(
        client_for(valkey.url),
        embedder,
        namespace="t:cap",
        max_entries_per_namespace=3,
        fallback_max_entries=2,
    )
    prompts = [
        "What is DNS?",
        "What is gravity?",
        "What is inflation?",
        "What is an API?",
        "What is Docker used for?",
    ]
    for prompt in prompts:
        await serve(stage, chat(prompt), answer(prompt))
    import redis

    raw = redis.Redis.from_url(valkey.url)
    assert len(list(raw.scan_iter("t:cap:s:*"))) == 3
    for vectors in raw.scan_iter("t:cap:fv:*"):
        assert raw.hlen(vectors) <= 2
    newest = chat(prompts[-1])
    await serve(stage, newest, answer("unused"))
    assert newest.notes["cache_status"] == "HIT"


async def test_redis_down_serves_from_the_provider_and_counts(embedder: LocalOnnxEmbedder) -> None:
    from devstack.ports import free_port

    stage = make_stage(client_for(f"redis://127.0.0.1:{free_port()}/0", timeout=0.1), embedder)
    before = events.counters["lookup_error"]
    ctx = chat("What is DNS?")
    body = await serve(stage, ctx, answer("from the provider"))
    assert ctx.notes["cache_status"] == "BYPASS"
    assert body["choices"][0]["message"]["content"] == "from the provider"
    assert events.counters["lookup_error"] == before + 1
    second = chat("What is DNS?")
    await serve(stage, second, answer("again"))
    assert second.notes["cache_status"] == "BYPASS"  # breaker open: no second timeout
    assert events.counters["breaker_open"] >= 1


async def test_a_hung_redis_costs_one_short_timeout(embedder: LocalOnnxEmbedder) -> None:
    with LocalValkey(with_search=False) as server:
        stage = make_stage(client_for(server.url, timeout=0.1), embedder)
        await serve(stage, chat("warm up"), answer("x"))
        server.pause()
        try:
            ctx = chat("What is DNS?")
            result = await stage.before(ctx)
            ctx.response = answer("provider")
            await stage.after(ctx)
        finally:
            server.resume()
    assert result is None and ctx.notes["cache_status"] == "BYPASS"


async def test_disabled_policy_only_strips_the_cache_field(
    valkey: LocalValkey, embedder: LocalOnnxEmbedder
) -> None:
    stage = make_stage(client_for(valkey.url), embedder)
    stage.policy = type(stage.policy)(enabled=False)
    ctx = chat("hi", cache={"no-cache": True})
    assert await stage.before(ctx) is None
    assert "cache" not in ctx.params and "cache_status" not in ctx.notes
    assert not ctx.response_headers
