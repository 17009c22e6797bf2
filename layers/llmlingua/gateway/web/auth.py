"""FastAPI dependency that authenticates every protected route."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header

from gateway.auth import Principal, authenticate, presented_key
from gateway.settings import get_settings


def current_principal(
    authorization: Annotated[str | None, Header()] = None,
    x_api_key: Annotated[str | None, Header()] = None,
) -> Principal:
    return authenticate(presented_key(authorization, x_api_key), get_settings())


AuthenticatedPrincipal = Annotated[Principal, Depends(current_principal)]
