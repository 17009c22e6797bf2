"""/key/* in LiteLLM's shape. Master key required, except a virtual key reading its own info."""

from __future__ import annotations

import math
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from gateway.auth import Principal
from gateway.errors import InvalidRequest, PermissionDenied
from gateway.keys.model import KeyRecord
from gateway.keys.service import KeyService
from gateway.web.auth import AuthenticatedPrincipal

from keys_api.deps import Admin, Drained, Keys, Spend, only_query
from keys_api.schemas import (
    DeleteKeysRequest,
    GenerateKeyRequest,
    KeyInfoRequest,
    KeyRef,
    RegenerateKeyRequest,
    UpdateKeyRequest,
)

router = APIRouter(tags=["keys"])
KeyQuery = Annotated[str | None, Query(min_length=1, max_length=256)]


@router.post("/key/generate")
def generate(body: GenerateKeyRequest, _: Admin, keys: Keys) -> dict[str, Any]:
    raw, record = keys.generate(body.settings())
    return {"key": raw, **keys.view(record)}


@router.get("/key/info", dependencies=[Depends(only_query("key"))])
def info(
    principal: AuthenticatedPrincipal, _: Drained, keys: Keys, key: KeyQuery = None
) -> dict[str, Any]:
    return _info(key, principal, keys)


@router.post("/key/info")
def info_post(
    principal: AuthenticatedPrincipal, _: Drained, keys: Keys, body: KeyInfoRequest | None = None
) -> dict[str, Any]:
    return _info(body.key if body else None, principal, keys)


@router.post("/key/update")
def update(body: UpdateKeyRequest, _: Admin, keys: Keys, spend: Spend) -> dict[str, Any]:
    settings = body.settings("key")
    if not spend.touches(settings):
        return keys.view(keys.update(body.key, settings))
    spend.drain(required=True)  # queued spend lands before the new value, not on top of it
    record = keys.update(body.key, settings)
    spend.forget([record.token_id])  # the next admission re-seeds from DynamoDB
    return keys.view(record)


@router.post("/key/delete")
def delete(body: DeleteKeysRequest, _: Admin, keys: Keys, spend: Spend) -> dict[str, Any]:
    deleted = keys.delete(body.identifiers())
    spend.forget(deleted)  # queued entries of a deleted key still land, as logs only
    return {"deleted_keys": deleted}


@router.get(
    "/key/list",
    dependencies=[
        Depends(only_query("page", "size", "team_id", "user_id", "key_alias", "return_full_object"))
    ],
)
def list_keys(
    _: Admin,
    __: Drained,
    keys: Keys,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    size: Annotated[int, Query(ge=1, le=100)] = 10,
    team_id: KeyQuery = None,
    user_id: KeyQuery = None,
    key_alias: KeyQuery = None,
    return_full_object: bool = False,
) -> dict[str, Any]:
    records = keys.list(team_id=team_id, user_id=user_id, key_alias=key_alias)
    chosen = records[(page - 1) * size : page * size]
    return {
        "keys": [keys.view(r) if return_full_object else r.token_id for r in chosen],
        "total_count": len(records),
        "current_page": page,
        "total_pages": math.ceil(len(records) / size),
    }


@router.post("/key/regenerate")
def regenerate(body: RegenerateKeyRequest, _: Admin, keys: Keys, spend: Spend) -> dict[str, Any]:
    settings = body.settings("key", "new_key")
    touches = spend.touches(settings)
    if touches:
        spend.drain(required=True)
    raw, record = keys.regenerate(body.key, settings, body.new_key)
    if touches:
        spend.forget([record.token_id])
    return {"key": raw, **keys.view(record)}


@router.post("/key/block")
def block(body: KeyRef, _: Admin, keys: Keys) -> dict[str, Any]:
    return keys.view(keys.set_blocked(body.key, True))


@router.post("/key/unblock")
def unblock(body: KeyRef, _: Admin, keys: Keys) -> dict[str, Any]:
    return keys.view(keys.set_blocked(body.key, False))


def _info(identifier: str | None, principal: Principal, keys: KeyService) -> dict[str, Any]:
    record: KeyRecord
    if principal.is_master:
        if identifier is None:
            raise InvalidRequest("Name the key: ?key=sk-... or its token_id.", param="key")
        record = keys.resolve(identifier)
    else:
        record = principal.key
        if identifier is not None and not keys.refers_to(identifier, record):
            raise PermissionDenied(
                "A virtual key may only read its own /key/info.", code="master_key_required"
            )
        record = keys.resolve(record.token_id)  # read after the drain: spend just persisted
    return {"key": record.token_id, "info": keys.view(record)}
