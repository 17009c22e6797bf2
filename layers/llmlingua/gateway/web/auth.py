"""FastAPI dependency that authenticates every protected route (master or virtual key)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header

from gateway.auth import Principal, authenticate, presented_key
from gateway.keys.model import KeyRecord
from gateway.settings import get_settings


def _lookup_key(key_hash: str) -> KeyRecord | None:
    # Imported here so a master-key-only instance never loads the key adapters. The Valkey copy
    # of the record first (keys/record_cache.py), DynamoDB on a miss or when Valkey is down.
    from gateway.keys.factory import key_lookup

    return key_lookup().get(key_hash)


def current_principal(
    authorization: Annotated[str | None, Header()] = None,
    x_api_key: Annotated[str | None, Header()] = None,
) -> Principal:
    return authenticate(presented_key(authorization, x_api_key), get_settings(), _lookup_key)


AuthenticatedPrincipal = Annotated[Principal, Depends(current_principal)]
