"""Who is calling: the master key now; virtual keys plug in here (keys issue)."""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from gateway.errors import AuthenticationFailed
from gateway.settings import Settings


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


def authenticate(key: str | None, settings: Settings) -> Principal:
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
    raise AuthenticationFailed("Invalid API key.", code="invalid_api_key")
