"""Streams rebuilt into responses and responses replayed as streams."""

from __future__ import annotations

import asyncio
from typing import Any

from gateway.cache.replay import rebuild, replay, storable

from tests.cache_support import answer


def collect(
    response: dict[str, Any], kind: str = "chat", usage: bool = True
) -> list[dict[str, Any]]:
    async def run() -> list[dict[str, Any]]:
        return [chunk async for chunk in replay(response, kind, include_usage=usage)]

    return asyncio.run(run())


def test_replay_then_rebuild_gives_back_the_response() -> None:
    original = answer("The quick brown fox jumps over the lazy dog, twice over.")
    chunks = collect(original)
    assert len(chunks) > 4 and chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    rebuilt = rebuild(chunks, "chat")
    assert rebuilt["choices"] == original["choices"] and rebuilt["usage"] == original["usage"]


def test_usage_is_replayed_only_when_asked() -> None:
    assert not any("usage" in c for c in collect(answer("hi"), usage=False))


def test_tool_calls_survive_a_stream() -> None:
    call = {
        "id": "call_1",
        "type": "function",
        "function": {"name": "weather", "arguments": '{"city": "Oslo"}'},
    }
    original = answer("")
    original["choices"][0]["message"] = {"role": "assistant", "content": None, "tool_calls": [call]}
    original["choices"][0]["finish_reason"] = "tool_calls"
    rebuilt = rebuild(collect(original), "chat")
    assert rebuilt["choices"][0]["message"]["tool_calls"] == [call]
    split = [
        {
            "choices": [
                {
                    "index": 0,
                    "delta": {
                        "tool_calls": [
                            {
                                "index": 0,
                                "id": "call_1",
                                "function": {"name": "weather", "arguments": '{"city"'},
                            }
                        ]
                    },
                }
            ]
        },
        {
            "choices": [
                {
                    "index": 0,
                    "delta": {"tool_calls": [{"index": 0, "function": {"arguments": ': "Oslo"}'}}]},
                    "finish_reason": "tool_calls",
                }
            ]
        },
    ]
    assert (
        rebuild(split, "chat")["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"]
        == '{"city": "Oslo"}'
    )


def test_text_completion_streams() -> None:
    original = {
        "id": "c",
        "object": "text_completion",
        "created": 1,
        "model": "m",
        "choices": [{"index": 0, "text": "one two three four five", "finish_reason": "stop"}],
    }
    assert (
        rebuild(collect(original, "text_completion"), "text_completion")["choices"]
        == original["choices"]
    )


def test_only_finished_answers_are_storable() -> None:
    assert storable(answer("ok"))
    assert not storable(answer("cut", finish_reason="content_filter"))
    assert not storable(answer(""))
    assert not storable({"choices": []})
    assert (
        rebuild([{"choices": [{"index": 0, "delta": {"content": "half"}}]}], "chat")["choices"][0][
            "finish_reason"
        ]
        is None
    )
