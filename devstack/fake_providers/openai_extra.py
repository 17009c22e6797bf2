"""OpenAI legacy text_completion and embeddings payloads."""

from __future__ import annotations

import time
from typing import Any

from . import text as tx
from .openai_chat import usage
from .runtime import Reply, sse


def text_reply(name: str, body: dict[str, Any]) -> Reply:
    """Build a legacy text_completion or its stream."""
    model = str(body.get("model", ""))
    prompt = body.get("prompt", "")
    prompt_text = tx.content_text(prompt[0] if isinstance(prompt, list) and prompt else prompt)
    reply = tx.echo(name, "openai", model, prompt_text or str(prompt))
    use = usage(tx.estimate_tokens(prompt_text or str(prompt)), tx.estimate_tokens(reply), "openai")
    base = {
        "id": tx.new_id("cmpl-"),
        "object": "text_completion",
        "created": int(time.time()),
        "model": model,
        "system_fingerprint": "fp_fake",
    }
    if not body.get("stream"):
        choice = {"text": reply, "index": 0, "logprobs": None, "finish_reason": "stop"}
        return Reply(json={**base, "choices": [choice], "usage": use})
    pieces = [*tx.split_chunks(reply), ""]
    frames = [
        sse(
            {
                **base,
                "choices": [
                    {
                        "text": p,
                        "index": 0,
                        "logprobs": None,
                        "finish_reason": "stop" if i == len(pieces) - 1 else None,
                    }
                ],
            }
        )
        for i, p in enumerate(pieces)
    ]
    if (body.get("stream_options") or {}).get("include_usage"):
        frames.append(sse({**base, "choices": [], "usage": use}))
    return Reply(events=[*frames, sse("[DONE]")])


def embeddings_reply(body: dict[str, Any]) -> Reply:
    """Build an embeddings list (float or base64)."""
    inputs = tx.embedding_inputs(body.get("input", ""))
    dims = int(body.get("dimensions") or tx.DEFAULT_DIMS)
    as_b64 = body.get("encoding_format") == "base64"
    data = []
    for i, item in enumerate(inputs):
        vec = tx.embedding_vector(item, dims)
        data.append(
            {
                "object": "embedding",
                "index": i,
                "embedding": tx.encode_base64(vec) if as_b64 else vec,
            }
        )
    tokens = sum(tx.estimate_tokens(t) for t in inputs)
    return Reply(
        json={
            "object": "list",
            "data": data,
            "model": str(body.get("model", "")),
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
        }
    )
