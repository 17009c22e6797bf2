"""Seams between the keys routes and the shared layer: the service, the reader, who may call."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request
from gateway.auth import Principal
from gateway.errors import InvalidRequest, PermissionDenied
from gateway.keys.factory import key_service, spend_log_reader
from gateway.keys.service import KeyService
from gateway.keys.spend_logs import SpendLogReader
from gateway.web.auth import AuthenticatedPrincipal

from keys_api.spend_sync import SpendSync, drained, spend_sync


def admin(principal: AuthenticatedPrincipal) -> Principal:
    if not principal.is_master:
        raise PermissionDenied(
            "Key management needs the master key; a virtual key may only read its own /key/info.",
            code="master_key_required",
        )
    return principal


def only_query(*allowed: str) -> Callable[[Request], None]:
    """A dependency refusing query parameters other than `allowed` (typos fail loudly)."""

    def check(request: Request) -> None:
        unknown = sorted(set(request.query_params) - set(allowed))
        if unknown:
            raise InvalidRequest(
                f"Unknown query parameter(s): {', '.join(unknown)}", param=unknown[0]
            )

    return check


Admin = Annotated[Principal, Depends(admin)]
Keys = Annotated[KeyService, Depends(key_service)]
SpendLogs = Annotated[SpendLogReader, Depends(spend_log_reader)]
# Issue 7: queued spend persisted first (declare after the principal: drain only once authorised)
Drained = Annotated[None, Depends(drained)]
Spend = Annotated[SpendSync, Depends(spend_sync)]
