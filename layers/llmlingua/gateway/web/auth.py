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


async def current_principal(
    authorization: Annotated[str | None, Header()] = None,
    x_api_key: Annotated[str | None, Header()] = None,
) -> Principal:
    # On the event loop, not in a worker thread: a Lambda instance serves one request at a time,
    # the lookup is one Valkey GET (~0.2 ms; DynamoDB only on a cache miss), and under Mangum a
    # sync dependency costs a thread start per invocation (anyio's workers die with each one).
    return authenticate(presented_key(authorization, x_api_key), get_settings(), _lookup_key)


AuthenticatedPrincipal = Annotated[Principal, Depends(current_principal)]
