"""Virtual key secrets: generation, the keyed hash they are stored under, the display name.

Only HMAC-SHA256(pepper, key) is stored. Without the pepper (Secrets Manager) a leaked table
cannot be brute-forced offline, and the raw key is shown once, at generation, and never again.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid

KEY_PREFIX = "sk-"


def new_raw_key() -> str:
    """A fresh key: `sk-` plus 256 random bits, URL-safe."""
    return KEY_PREFIX + secrets.token_urlsafe(32)


def hash_key(raw_key: str, pepper: str) -> str:
    """The keyed hash a key is stored and looked up under (64 hex characters)."""
    return hmac.new(pepper.encode("utf-8"), raw_key.encode("utf-8"), hashlib.sha256).hexdigest()


def key_name(raw_key: str) -> str:
    """The display form LiteLLM uses: `sk-...abcd` (the last four characters)."""
    return f"{KEY_PREFIX}...{raw_key[-4:]}"


def new_token_id() -> str:
    """The key's stable public id (survives /key/regenerate; never derived from the secret)."""
    return uuid.uuid4().hex


def looks_like_raw_key(value: str) -> bool:
    return value.startswith(KEY_PREFIX)
