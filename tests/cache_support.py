"""Cache test helpers: the real embedding model (built once per machine), contexts, stages."""

from __future__ import annotations

import fcntl
import subprocess
from pathlib import Path
from typing import Any

from gateway.auth import Principal
from gateway.cache.policy import CachePolicy
from gateway.cache.stage import CacheStage
from gateway.cache.store import CacheStore
from gateway.embeddings.onnx_local import LocalOnnxEmbedder
from gateway.pipeline import CallContext

ROOT = Path(__file__).resolve().parents[1]
MODEL_DIR = ROOT / "models" / "all-MiniLM-L6-v2-int8"


def ensure_embedding_model() -> Path:
    """`make embedding-model` once (a few seconds; the build venv comes from hashed locks);
    a lock keeps parallel test workers from building it twice."""
    if (MODEL_DIR / "model.onnx").is_file():
        return MODEL_DIR
    MODEL_DIR.parent.mkdir(parents=True, exist_ok=True)
    with (MODEL_DIR.parent / ".build.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (MODEL_DIR / "model.onnx").is_file():
            subprocess.run(  # noqa: S603 - our own make target
                ["make", "--no-print-directory", "embedding-model"],  # noqa: S607
                cwd=ROOT,
                check=True,
                timeout=900,
            )
    return MODEL_DIR


def principal(team: str | None = None, key_hash: str | None = None, key: Any = None) -> Principal:
    return Principal(
        is_master=team is None and key_hash is None, team_id=team, key_hash=key_hash, key=key
    )


def chat(
    text: str,
    *,
    who: Principal | None = None,
    model: str = "gpt-4o-mini",
    headers: dict[str, str] | None = None,
    **params: Any,
) -> CallContext:
    body = {"model": model, "messages": [{"role": "user", "content": text}], **params}
    return CallContext("chat", who or principal(), body, headers or {})


def answer(text: str, *, finish_reason: str = "stop") -> dict[str, Any]:
    return {
        "id": "chatcmpl-cached",
        "object": "chat.completion",
        "created": 1_700_000_000,
        "model": "gpt-4o-mini",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text},
                "finish_reason": finish_reason,
            }
        ],
        "usage": {"prompt_tokens": 5, "completion_tokens": 7, "total_tokens": 12},
    }


def make_stage(
    client: Any,
    embedder: LocalOnnxEmbedder | None,
    *,
    search_mode: str = "auto",
    namespace: str = "test:cache",
    **policy: Any,
) -> CacheStage:
    settings = CachePolicy(enabled=True, namespace=namespace, **policy)

    def store() -> CacheStore:
        return CacheStore(
            client(),
            settings.namespace,
            embedder.name if embedder else "none",
            search_mode=search_mode,
            max_entries=settings.max_entries_per_namespace,
            fallback_max_entries=settings.fallback_max_entries,
        )

    return CacheStage(settings, store, embedder, breaker_seconds=30)
