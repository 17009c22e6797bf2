"""Streams and whole responses, both ways: a cached answer replayed as chunks, and a finished
stream's chunks rebuilt into the response that is stored."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

_PIECE = re.compile(r"\S+\s*|\s+")
WORDS_PER_CHUNK = 4
STORABLE_FINISH = frozenset({"stop", "tool_calls", "function_call", "length", "end_turn"})


def storable(response: dict[str, Any]) -> bool:
    """Only complete answers are cached: every choice finished normally and said something."""
    choices = response.get("choices")
    if isinstance(response.get("data"), list):  # embeddings
        return bool(response["data"])
    if not isinstance(choices, list) or not choices:
        return False
    for choice in choices:
        if choice.get("finish_reason") not in STORABLE_FINISH:
            return False
        message = choice.get("message") or {}
        if not (message.get("content") or message.get("tool_calls") or choice.get("text")):
            return False
    return True


def rebuild(chunks: list[dict[str, Any]], kind: str) -> dict[str, Any] | None:
    """The non-streamed response a finished stream amounts to (None if it did not finish)."""
    if not chunks:
        return None
    first = chunks[0]
    choices: dict[int, dict[str, Any]] = {}
    usage = None
    for chunk in chunks:
        usage = chunk.get("usage") or usage
        for part in chunk.get("choices") or []:
            choice = choices.setdefault(
                int(part.get("index", 0)), {"content": [], "tools": {}, "role": "assistant"}
            )
            if part.get("finish_reason"):
                choice["finish_reason"] = part["finish_reason"]
            if kind == "text_completion":
                choice["content"].append(part.get("text") or "")
                continue
            delta = part.get("delta") or {}
            choice["role"] = delta.get("role") or choice["role"]
            choice["content"].append(delta.get("content") or "")
            for call in delta.get("tool_calls") or []:
                _merge_tool_call(choice["tools"], call)
    if not choices:
        return None
    built = [_choice(index, c, kind) for index, c in sorted(choices.items())]
    response = {
        "id": first.get("id"),
        "object": "text_completion" if kind == "text_completion" else "chat.completion",
        "created": first.get("created"),
        "model": first.get("model"),
        "choices": built,
    }
    if first.get("system_fingerprint"):
        response["system_fingerprint"] = first["system_fingerprint"]
    if usage:
        response["usage"] = usage
    return response


def _merge_tool_call(tools: dict[int, dict[str, Any]], call: dict[str, Any]) -> None:
    slot = tools.setdefault(
        int(call.get("index", len(tools))),
        {"id": None, "type": "function", "function": {"name": "", "arguments": ""}},
    )
    slot["id"] = call.get("id") or slot["id"]
    function = call.get("function") or {}
    slot["function"]["name"] += function.get("name") or ""
    slot["function"]["arguments"] += function.get("arguments") or ""


def _choice(index: int, parts: dict[str, Any], kind: str) -> dict[str, Any]:
    text = "".join(parts["content"])
    if kind == "text_completion":
        return {"index": index, "text": text, "finish_reason": parts.get("finish_reason")}
    message: dict[str, Any] = {"role": parts["role"], "content": text or None}
    if parts["tools"]:
        message["tool_calls"] = [parts["tools"][i] for i in sorted(parts["tools"])]
    return {"index": index, "message": message, "finish_reason": parts.get("finish_reason")}


async def replay(
    response: dict[str, Any], kind: str, *, include_usage: bool
) -> AsyncIterator[dict[str, Any]]:
    """A cached response as the chunks of a stream: role, text in small pieces, finish, usage."""
    base = {
        "id": response.get("id"),
        "object": "text_completion" if kind == "text_completion" else "chat.completion.chunk",
        "created": response.get("created"),
        "model": response.get("model"),
    }
    if response.get("system_fingerprint"):
        base["system_fingerprint"] = response["system_fingerprint"]
    for choice in response.get("choices") or []:
        index = choice.get("index", 0)
        if kind == "text_completion":
            for piece in _pieces(choice.get("text") or ""):
                yield {**base, "choices": [{"index": index, "text": piece, "finish_reason": None}]}
            yield {
                **base,
                "choices": [
                    {"index": index, "text": "", "finish_reason": choice.get("finish_reason")}
                ],
            }
            continue
        message = choice.get("message") or {}
        role = message.get("role", "assistant")
        yield {
            **base,
            "choices": [
                {"index": index, "delta": {"role": role, "content": ""}, "finish_reason": None}
            ],
        }
        for piece in _pieces(message.get("content") or ""):
            yield {
                **base,
                "choices": [{"index": index, "delta": {"content": piece}, "finish_reason": None}],
            }
        if message.get("tool_calls"):
            calls = [{**call, "index": i} for i, call in enumerate(message["tool_calls"])]
            yield {
                **base,
                "choices": [
                    {"index": index, "delta": {"tool_calls": calls}, "finish_reason": None}
                ],
            }
        yield {
            **base,
            "choices": [
                {"index": index, "delta": {}, "finish_reason": choice.get("finish_reason")}
            ],
        }
    if include_usage and response.get("usage"):
        yield {**base, "choices": [], "usage": response["usage"]}


def _pieces(text: str) -> list[str]:
    words = _PIECE.findall(text)
    return ["".join(words[i : i + WORDS_PER_CHUNK]) for i in range(0, len(words), WORDS_PER_CHUNK)]
