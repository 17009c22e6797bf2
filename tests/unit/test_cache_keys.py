"""Canonical request hashing: what changes the exact key and the semantic partition."""

from __future__ import annotations

from typing import Any

import pytest
from gateway.cache.keys import request_key, tenant_of

from tests.cache_support import principal

BASE: dict[str, Any] = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Hi?"}]}


def key(params: dict[str, Any] | None = None, who: Any = None, kind: str = "chat") -> Any:
    return request_key(kind, {**BASE, **(params or {})}, who or principal(), 1000)


@pytest.mark.parametrize(
    "change",
    [
        {"model": "gpt-4o"},
        {"temperature": 0.2},
        {"top_p": 0.5},
        {"max_tokens": 9},
        {"seed": 1},
        {"stop": ["x"]},
        {"n": 2},
        {"response_format": {"type": "json_object"}},
        {"tools": [{"type": "function", "function": {"name": "f"}}]},
        {"messages": [{"role": "user", "content": "Hi!"}]},
        {"an_unknown_provider_param": True},  # unknown parameters count as answer-changing
    ],
)
def test_every_answer_changing_parameter_changes_the_key(change: dict[str, Any]) -> None:
    assert key(change).request_hash != key().request_hash


@pytest.mark.parametrize(
    "change",
    [
        {"stream": True},
        {"stream_options": {"include_usage": True}},
        {"user": "u"},
        {"metadata": {"a": 1}},
    ],
)
def test_transport_fields_do_not_change_the_key(change: dict[str, Any]) -> None:
    assert key(change).request_hash == key().request_hash


def test_tenants_have_different_keys_for_the_same_request() -> None:
    hashes = {
        key(who=w).request_hash
        for w in (principal(), principal(team="a"), principal(team="b"), principal(key_hash="h"))
    }
    assert len(hashes) == 4
    assert tenant_of(principal(team="a", key_hash="h")) == "team:a"
    assert tenant_of(principal(key_hash="h")) == "key:h"
    assert tenant_of(principal()) == "master"


def test_the_partition_is_the_request_without_the_last_user_message() -> None:
    one, two = (
        key({"messages": [{"role": "user", "content": "A?"}]}),
        key({"messages": [{"role": "user", "content": "B?"}]}),
    )
    assert one.partition == two.partition and one.request_hash != two.request_hash
    assert one.semantic_text == "A?"
    history = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "A?"}]
    assert key({"messages": history}).partition != one.partition


@pytest.mark.parametrize(
    "messages",
    [
        [{"role": "user", "content": "x" * 1001}],  # longer than the model reads: exact only
        [{"role": "assistant", "content": "last is not the user"}],
        [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "data:,"}}]}],
        [{"role": "user", "content": "  "}],
    ],
)
def test_only_plain_short_user_text_is_embedded(messages: list[dict[str, Any]]) -> None:
    assert key({"messages": messages}).semantic_text is None


def test_text_parts_and_prompts_are_embedded_and_embeddings_are_not() -> None:
    parts = [
        {"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]}
    ]
    assert key({"messages": parts}).semantic_text == "a\nb"
    assert (
        request_key(
            "text_completion", {"model": "m", "prompt": "Say hi"}, principal(), 1000
        ).semantic_text
        == "Say hi"
    )
    assert (
        request_key("embedding", {"model": "e", "input": "hi"}, principal(), 1000).semantic_text
        is None
    )
