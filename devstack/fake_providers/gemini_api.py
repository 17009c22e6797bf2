"""Gemini (Google AI Studio) wire protocol under /v1beta and /v1."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from . import text as tx
from .errors import error_response
from .runtime import Call, Reply, fake_state, read_json, respond

router = APIRouter()
ACTIONS = ("generateContent", "streamGenerateContent", "batchEmbedContents", "embedContent")


def _usage(prompt: int, output: int | None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "promptTokenCount": prompt,
        "promptTokensDetails": [{"modality": "TEXT", "tokenCount": prompt}],
    }
    if output is not None:
        out["candidatesTokenCount"] = output
    out["totalTokenCount"] = prompt + (output or 0)
    return out


def _chunk(text: str, model: str, rid: str, usage: dict[str, Any], done: bool) -> dict[str, Any]:
    candidate: dict[str, Any] = {
        "content": {"parts": [{"text": text}], "role": "model"},
        "index": 0,
    }
    if done:
        candidate["finishReason"] = "STOP"
    return {
        "candidates": [candidate],
        "usageMetadata": usage,
        "modelVersion": model,
        "responseId": rid,
    }


def generate_reply(name: str, model: str, body: dict[str, Any], stream: bool, sse: bool) -> Reply:
    """Build generateContent JSON, an SSE stream, or a JSON-array stream."""
    contents = body.get("contents")
    reply = tx.echo(name, "gemini", model, tx.last_user_text(contents, ("user",), "parts"))
    system = body.get("systemInstruction") or body.get("system_instruction") or {}
    prompt = f"{tx.content_text(system.get('parts'))} {tx.all_text(contents, 'parts')}".strip()
    tokens_in, tokens_out = tx.estimate_tokens(prompt), tx.estimate_tokens(reply)
    rid = tx.new_id("")
    if not stream:
        return Reply(json=_chunk(reply, model, rid, _usage(tokens_in, tokens_out), True))
    pieces = tx.split_chunks(reply)
    chunks = [_chunk(p, model, rid, _usage(tokens_in, None), False) for p in pieces[:-1]]
    chunks.append(_chunk(pieces[-1], model, rid, _usage(tokens_in, tokens_out), True))
    if not sse:
        return Reply(json=chunks)
    return Reply(events=[f"data: {json.dumps(c)}\r\n\r\n" for c in chunks])


def embed_reply(body: dict[str, Any], batch: bool) -> Reply:
    """Build embedContent / batchEmbedContents output."""
    requests = body.get("requests", []) if batch else [body]
    values = [
        {
            "values": tx.embedding_vector(
                tx.content_text(r.get("content", {}).get("parts")),
                int(r.get("outputDimensionality") or tx.DEFAULT_DIMS),
            )
        }
        for r in requests
        if isinstance(r, dict)
    ]
    return Reply(json={"embeddings": values} if batch else {"embedding": values[0]})


def _key_present(request: Request) -> bool:
    return bool(request.query_params.get("key") or request.headers.get("x-goog-api-key"))


@router.post("/{version}/models/{target}")
async def models_action(version: str, target: str, request: Request) -> Response:
    """`models/<model>:<action>` for generate/stream/embed actions."""
    model, _, action = target.rpartition(":")
    if version not in ("v1beta", "v1") or action not in ACTIONS or not model:
        return error_response("gemini", 404, f"Unknown method {target!r}.")
    body = await read_json(request)
    data = body if isinstance(body, dict) else {}
    stream = action == "streamGenerateContent"
    call = Call("gemini", request.url.path, model, stream, body, _key_present(request))

    def build() -> Reply:
        if action.endswith("EmbedContents") or action == "embedContent":
            return embed_reply(data, batch=action == "batchEmbedContents")
        alt_sse = request.query_params.get("alt") == "sse"
        return generate_reply(fake_state(request).name, model, data, stream, alt_sse)

    return await respond(request, call, build)
