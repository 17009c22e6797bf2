"""Anthropic Messages wire protocol: POST /v1/messages."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from . import text as tx
from .runtime import Call, Reply, fake_state, read_json, respond, sse

router = APIRouter()


def _usage(input_tokens: int, output_tokens: int) -> dict[str, Any]:
    return {
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
    }


def message_reply(name: str, body: dict[str, Any]) -> Reply:
    """Build a Messages response or its event stream."""
    model = str(body.get("model", ""))
    messages = body.get("messages")
    reply = tx.echo(name, "anthropic", model, tx.last_user_text(messages))
    prompt = f"{tx.content_text(body.get('system'))} {tx.all_text(messages)}".strip()
    tokens_in, tokens_out = tx.estimate_tokens(prompt), tx.estimate_tokens(reply)
    message: dict[str, Any] = {
        "id": tx.new_id("msg_"),
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [{"type": "text", "text": reply}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": _usage(tokens_in, tokens_out),
    }
    if not body.get("stream"):
        return Reply(json=message)
    return Reply(events=_stream(message, reply, tokens_in, tokens_out))


def _stream(message: dict[str, Any], reply: str, tokens_in: int, tokens_out: int) -> list[str]:
    start = {**message, "content": [], "stop_reason": None, "usage": _usage(tokens_in, 1)}
    events: list[tuple[str, dict[str, Any]]] = [
        ("message_start", {"type": "message_start", "message": start}),
        (
            "content_block_start",
            {
                "type": "content_block_start",
                "index": 0,
                "content_block": {"type": "text", "text": ""},
            },
        ),
        ("ping", {"type": "ping"}),
    ]
    events += [
        (
            "content_block_delta",
            {
                "type": "content_block_delta",
                "index": 0,
                "delta": {"type": "text_delta", "text": piece},
            },
        )
        for piece in tx.split_chunks(reply)
    ]
    events += [
        ("content_block_stop", {"type": "content_block_stop", "index": 0}),
        (
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                "usage": {"output_tokens": tokens_out},
            },
        ),
        ("message_stop", {"type": "message_stop"}),
    ]
    return [sse(data, event=name) for name, data in events]


@router.post("/v1/messages")
async def messages(request: Request) -> Response:
    """Anthropic Messages endpoint (auth: x-api-key)."""
    body = await read_json(request)
    data = body if isinstance(body, dict) else {}
    call = Call(
        "anthropic",
        request.url.path,
        data.get("model"),
        bool(data.get("stream")),
        body,
        bool(request.headers.get("x-api-key", "").strip()),
    )
    return await respond(request, call, lambda: message_reply(fake_state(request).name, data))
