"""Deterministic content helpers: prompt extraction, echo replies, tokens, vectors."""

from __future__ import annotations

import base64
import hashlib
import math
import re
import struct
import uuid
from collections.abc import Iterable
from typing import Any

ECHO_LIMIT = 200
DEFAULT_DIMS = 16


def content_text(content: Any) -> str:
    """Text of a string, a content part, or a list of parts (OpenAI/Anthropic/Gemini)."""
    if isinstance(content, str):
        return content
    if isinstance(content, dict):
        text = content.get("text")
        return text if isinstance(text, str) else ""
    if isinstance(content, list):
        return " ".join(t for t in (content_text(p) for p in content) if t)
    return ""


def last_user_text(messages: Any, roles: Iterable[str] = ("user",), key: str = "content") -> str:
    """Text of the last message whose role is in `roles`."""
    wanted = set(roles)
    for message in reversed(messages if isinstance(messages, list) else []):
        if isinstance(message, dict) and message.get("role", "user") in wanted:
            return content_text(message.get(key))
    return ""


def all_text(messages: Any, key: str = "content") -> str:
    """Concatenated text of every message (for prompt token estimates)."""
    items = messages if isinstance(messages, list) else []
    return " ".join(content_text(m.get(key)) for m in items if isinstance(m, dict))


def estimate_tokens(text: str) -> int:
    """Deterministic token estimate: ceil(len/4), at least 1."""
    return max(1, (len(text) + 3) // 4)


def echo(server: str, provider: str, model: str, prompt: str) -> str:
    """The reply text every fake produces."""
    flat = " ".join(prompt.split())[:ECHO_LIMIT]
    return f"[{server}] {provider} {model} echo: {flat}"


def split_chunks(text: str, parts: int = 3) -> list[str]:
    """Split on word boundaries into up to `parts` pieces that concatenate to `text`."""
    words = [w for w in re.split(r"(?<=\s)", text) if w]
    size = max(1, math.ceil(len(words) / parts))
    return ["".join(words[i : i + size]) for i in range(0, len(words), size)] or [""]


def new_id(prefix: str) -> str:
    """Random response id with a provider-style prefix."""
    return f"{prefix}{uuid.uuid4().hex[:24]}"


def embedding_vector(text: str, dims: int = DEFAULT_DIMS) -> list[float]:
    """Unit-length vector derived from sha256 of the text."""
    raw = b""
    block = 0
    while len(raw) < dims * 4:
        raw += hashlib.sha256(f"{block}:{text}".encode()).digest()
        block += 1
    ints = struct.unpack(f"<{dims}I", raw[: dims * 4])
    vec = [(i / 0xFFFFFFFF) * 2.0 - 1.0 for i in ints]
    norm = math.sqrt(sum(v * v for v in vec)) or 1.0
    return [round(v / norm, 6) for v in vec]


def encode_base64(vec: list[float]) -> str:
    """Little-endian float32 base64, as OpenAI returns for encoding_format=base64."""
    return base64.b64encode(struct.pack(f"<{len(vec)}f", *vec)).decode()


def embedding_inputs(value: Any) -> list[str]:
    """Normalise OpenAI embedding `input` (str, [str], [int], [[int]]) to strings."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and value and all(isinstance(v, int) for v in value):
        return [str(value)]
    if isinstance(value, list):
        return [v if isinstance(v, str) else str(v) for v in value]
    return [str(value)]
