"""OpenAI chat.completion payloads (Groq flavour adds service_tier/x_groq)."""

from __future__ import annotations

import time
from typing import Any

from . import text as tx
from .runtime import Reply, sse


def usage(prompt: int, completion: int, provider: str) -> dict[str, Any]:
    """OpenAI usage block (Groq adds timing fields)."""
    out: dict[str, Any] = {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }
    if provider == "groq":
        out.update(queue_time=0.001, prompt_time=0.001, completion_time=0.01, total_time=0.011)
    return out


def _chat_envelope(cid: str, model: str, provider: str, obj: str) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": cid,
        "object": obj,
        "created": int(time.time()),
        "model": model,
        "system_fingerprint": "fp_fake",
    }
    body["service_tier"] = "on_demand" if provider == "groq" else "default"
    return body


def chat_reply(name: str, provider: str, body: dict[str, Any]) -> Reply:
    """Build a chat.completion or its stream."""
    model = str(body.get("model", ""))
    messages = body.get("messages")
    reply = tx.echo(name, provider, model, tx.last_user_text(messages))
    use = usage(tx.estimate_tokens(tx.all_text(messages)), tx.estimate_tokens(reply), provider)
    cid = tx.new_id("chatcmpl-")
    if body.get("stream"):
        return Reply(events=_chat_stream(cid, model, provider, reply, use, body))
    out = _chat_envelope(cid, model, provider, "chat.completion")
    out["choices"] = [
        {
            "index": 0,
            "logprobs": None,
            "finish_reason": "stop",
            "message": {"role": "assistant", "content": reply, "refusal": None},
        }
    ]
    out["usage"] = use
    if provider == "groq":
        out["x_groq"] = {"id": tx.new_id("req_")}
    return Reply(json=out)


def _chat_stream(
    cid: str, model: str, provider: str, reply: str, use: dict[str, Any], body: dict[str, Any]
) -> list[str]:
    include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
    groq_id = tx.new_id("req_")
    deltas: list[dict[str, Any]] = [{"role": "assistant", "content": ""}]
    deltas += [{"content": piece} for piece in tx.split_chunks(reply)]
    deltas.append({})
    frames = []
    for i, delta in enumerate(deltas):
        chunk = _chat_envelope(cid, model, provider, "chat.completion.chunk")
        last = i == len(deltas) - 1
        chunk["choices"] = [
            {
                "index": 0,
                "delta": delta,
                "logprobs": None,
                "finish_reason": "stop" if last else None,
            }
        ]
        if include_usage:
            chunk["usage"] = None
        if provider == "groq" and (i == 0 or last):
            chunk["x_groq"] = {"id": groq_id, **({"usage": use} if last else {})}
        frames.append(sse(chunk))
    if include_usage:
        tail = _chat_envelope(cid, model, provider, "chat.completion.chunk")
        frames.append(sse({**tail, "choices": [], "usage": use}))
    return [*frames, sse("[DONE]")]
