"""Which embedder the cache uses, from `redis_semantic_cache_embedding_model` and the settings."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from gateway.embeddings.onnx_local import MODEL_NAME, LocalOnnxEmbedder
from gateway.embeddings.port import Embedder
from gateway.embeddings.provider import ProviderEmbedder
from gateway.embeddings.remote import HttpEmbedder
from gateway.embeddings.remote_lambda import LambdaEmbedder, lambda_client

LOCAL_PREFIX = "local/"


def build_embedder(
    spec: str | None,
    *,
    model_dir: Path,
    remote_url: str | None = None,
    remote_function: str | None = None,
    remote_timeout: float = 1.0,
    region: str = "us-east-1",
    router: Callable[[], Any] | None = None,
) -> Embedder | None:
    """`local/...` (default): the bundled MiniLM, in process or, when `remote_function` (a
    Lambda function name) or `remote_url` is set, run there under the same name (so all three
    share cache entries). Any other value names an embedding model of the config served through
    `router()`. None when nothing can embed."""
    if not spec or spec.startswith(LOCAL_PREFIX):
        if remote_function:
            client = lambda_client(region, None, remote_timeout)
            return LambdaEmbedder(remote_function, client, name=MODEL_NAME)
        if remote_url:
            return HttpEmbedder(remote_url, name=MODEL_NAME, timeout=remote_timeout)
        return LocalOnnxEmbedder(model_dir)
    if router is None:
        return None
    return ProviderEmbedder(router, spec)
