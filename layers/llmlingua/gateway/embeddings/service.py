"""The server side of the remote contract, for whichever function hosts the model (`/embed`)."""

from __future__ import annotations

from typing import Any

from gateway.embeddings.port import Embedder

MAX_TEXTS = 64
MAX_CHARS = 8_000


def embed_response(body: Any, embedder: Embedder) -> tuple[int, dict[str, Any]]:
    """(status, JSON body) for a `{"texts": [...]}` request; 400 for a malformed one."""
    texts = body.get("texts") if isinstance(body, dict) else None
    if (
        not isinstance(texts, list)
        or not 0 < len(texts) <= MAX_TEXTS
        or not all(isinstance(t, str) and len(t) <= MAX_CHARS for t in texts)
    ):
        message = f"'texts' must be a list of 1-{MAX_TEXTS} strings of <= {MAX_CHARS} chars"
        return 400, {"error": {"message": message, "type": "invalid_request_error"}}
    vectors = embedder.embed(texts)
    dims = len(vectors[0]) if vectors else 0
    return 200, {"model": embedder.name, "dimensions": dims, "embeddings": vectors}
