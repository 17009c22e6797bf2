"""Who is calling: the master key (constant-time compare) or a virtual key, looked up by the
keyed hash of the secret on every request (no in-process key cache; the shared Valkey copy is
invalidated by every key change, so a deleted, blocked or updated key takes effect on the next
request on every instance)."""

from __future__ import annotations

import hmac
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from gateway.errors import AuthenticationFailed, KeyBlocked, KeyExpired
from gateway.keys.hashing import hash_key, looks_like_raw_key
from gateway.keys.model import KeyRecord
from gateway.settings import Settings

KeyLookup = Callable[[str], KeyRecord | None]  # key hash -> the stored key, or None


@dataclass(frozen=True)
class Principal:
    """The authenticated caller of one request."""

    is_master: bool
    key_alias: str | None = None
    team_id: str | None = None
    user_id: str | None = None
    key_hash: str | None = None
    aliases: Mapping[str, str] = field(default_factory=dict)
    key: Any = None  # the virtual key's stored record, when the caller used one

    def resolve_model(self, requested: str) -> str:
        """The model name after the key's aliases (alias -> model name) are applied."""
        return self.aliases.get(requested, requested)


def presented_key(authorization: str | None, x_api_key: str | None) -> str | None:
    """The API key from `Authorization: Bearer ...` or `x-api-key`, whichever is present."""
    if authorization:
        scheme, _, token = authorization.strip().partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            return token.strip()
    if x_api_key and x_api_key.strip():
        return x_api_key.strip()
    return None


def authenticate(
    key: str | None,
    settings: Settings,
    lookup: KeyLookup | None = None,
    now: float | None = None,
) -> Principal:
    if not key:
        raise AuthenticationFailed(
            "Missing API key: send 'Authorization: Bearer sk-...' or 'x-api-key'.",
            code="missing_api_key",
        )
    master = settings.litellm_master_key
    if master is not None and hmac.compare_digest(
        key.encode("utf-8"), master.get_secret_value().encode("utf-8")
    ):
        return Principal(is_master=True, key_alias="master")
    pepper = settings.key_pepper
    if lookup is None or pepper is None or not looks_like_raw_key(key):
        raise AuthenticationFailed("Invalid API key.", code="invalid_api_key")
    record = lookup(hash_key(key, pepper.get_secret_value()))
    if record is None:
        raise AuthenticationFailed("Invalid API key.", code="invalid_api_key")
    if record.expired(time.time() if now is None else now):
        raise KeyExpired("This API key has expired.")
    if record.blocked:
        raise KeyBlocked("This API key is blocked; an administrator can unblock it.")
    return Principal(
        is_master=False,
        key_alias=record.key_alias,
        team_id=record.team_id,
        user_id=record.user_id,
        key_hash=record.key_hash,
        aliases=dict(record.aliases),
        key=record,
    )
