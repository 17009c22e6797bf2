"""POST /embed: the semantic cache's embedding model (gateway.embeddings, issue 4), if present.

Serves `gateway.embeddings.service.embed_response` with the ONNX MiniLM from
EMBEDDING_MODEL_DIR; answers 501 where that package or its model is not part of this build.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any


@lru_cache(maxsize=1)
def _embedder() -> Any:
    directory = os.environ.get("EMBEDDING_MODEL_DIR")
    if not directory:
        return None
    try:
        from gateway.embeddings.onnx_local import LocalOnnxEmbedder
    except ImportError:
        return None
    embedder = LocalOnnxEmbedder(Path(directory))
    return embedder if embedder.available else None


def embed(body: Any) -> tuple[int, dict[str, Any]]:
    embedder = _embedder()
    if embedder is None:
        message = "no embedding model in this build (set EMBEDDING_MODEL_DIR)"
        return 501, {"error": {"message": message, "type": "not_implemented"}}
    from gateway.embeddings.service import embed_response

    status, response = embed_response(body, embedder)
    return status, response
