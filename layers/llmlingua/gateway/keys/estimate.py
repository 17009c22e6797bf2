"""Token estimates made before the call, for budget and TPM reservations.

No tokenizer (that would mean importing litellm or tiktoken on every request, cache hits
included): about four characters per token, plus a few tokens of framing per message. The
estimate only sizes a reservation; what is charged is the provider's own usage count.
"""

from __future__ import annotations

from typing import Any

_CHARS_PER_TOKEN = 4
_TOKENS_PER_MESSAGE = 4


def prompt_tokens(kind: str, params: dict[str, Any]) -> int:
    if kind == "chat":
        messages = params.get("messages") or []
        chars = sum(len(_text(m.get("content"))) for m in messages if isinstance(m, dict))
        return chars // _CHARS_PER_TOKEN + _TOKENS_PER_MESSAGE * len(messages) + 1
    source = params.get("prompt") if kind == "text_completion" else params.get("input")
    return max(len(_text(source)) // _CHARS_PER_TOKEN, 1)


def output_tokens(kind: str, params: dict[str, Any], default: int) -> int:
    if kind == "embedding":
        return 0
    limit = params.get("max_completion_tokens") or params.get("max_tokens") or default
    return int(limit) * int(params.get("n") or 1)


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return " ".join(_text(part) for part in value)
    if isinstance(value, dict):
        return _text(value.get("text"))
    if isinstance(value, int):
        return "    "  # a token id of a pre-tokenized prompt
    return ""
