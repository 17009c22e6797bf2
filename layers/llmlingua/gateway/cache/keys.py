"""The canonical request: what identifies an answer, hashed for the exact tier and the partition.

The exact key covers the tenant, the call kind, the model after alias resolution, the messages
(or prompt / input) and every parameter that can change the answer; only transport and
bookkeeping fields are left out. The semantic tier searches within a partition: the same key
minus the text that is embedded (the last user message, or the prompt), so a paraphrase is only
ever matched against requests with the same system prompt, history, model and parameters.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from gateway.auth import Principal

# Fields that never change the answer (transport, accounting, our own controls).
NOT_ANSWER_CHANGING = frozenset(
    {
        "stream", "stream_options", "user", "metadata", "cache", "timeout", "request_timeout",
        "num_retries", "extra_headers", "tags", "litellm_metadata", "store", "service_tier",
        "compression", "api_key",
    }
)  # fmt: skip


@dataclass(frozen=True)
class RequestKey:
    tenant_tag: str  # hash of "team:<id>" | "key:<hash>" | "master"
    model_tag: str
    request_hash: str  # the exact-tier key, also sent as x-litellm-cache-key
    partition: str  # everything but the embedded text
    semantic_text: str | None  # None: exact tier only


def tenant_of(principal: Principal) -> str:
    """Tenant isolation: the team, else the key, else the master key's own namespace."""
    if principal.team_id:
        return f"team:{principal.team_id}"
    token_id = getattr(principal.key, "token_id", None)  # stable across /key/regenerate
    if token_id:
        return f"key:{token_id}"
    if principal.key_hash:
        return f"key:{principal.key_hash}"
    return "master" if principal.is_master else "anonymous"


def digest(value: Any, size: int = 16) -> str:
    data = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.blake2b(data.encode(), digest_size=size).hexdigest()


def request_key(
    kind: str, params: dict[str, Any], principal: Principal, semantic_max_chars: int
) -> RequestKey:
    tenant = tenant_of(principal)
    answer_params = {k: v for k, v in params.items() if k not in NOT_ANSWER_CHANGING}
    model = str(answer_params.get("model"))
    request_hash = digest({"tenant": tenant, "kind": kind, "params": answer_params})
    text, rest = _split_semantic(kind, answer_params)
    if text is not None and (not text.strip() or len(text) > semantic_max_chars):
        text = None
    return RequestKey(
        tenant_tag=digest(tenant, 8),
        model_tag=digest(model, 8),
        request_hash=request_hash,
        partition=digest({"tenant": tenant, "kind": kind, "rest": rest}),
        semantic_text=text,
    )


def _split_semantic(kind: str, params: dict[str, Any]) -> tuple[str | None, dict[str, Any]]:
    """(text to embed, everything else) — or (None, params) when nothing is safely embeddable."""
    if kind == "chat":
        messages = params.get("messages") or []
        last = messages[-1] if messages else None
        text = _plain_text(last.get("content")) if isinstance(last, dict) else None
        if last is None or last.get("role") != "user" or text is None or len(last) != 2:
            return None, params
        return text, {**params, "messages": messages[:-1]}
    if kind == "text_completion" and isinstance(params.get("prompt"), str):
        return params["prompt"], {k: v for k, v in params.items() if k != "prompt"}
    return None, params


def _plain_text(content: Any) -> str | None:
    if isinstance(content, str):
        return content
    if (
        isinstance(content, list)
        and content
        and all(
            isinstance(p, dict) and p.get("type") == "text" and isinstance(p.get("text"), str)
            for p in content
        )
    ):
        return "\n".join(p["text"] for p in content)
    return None
