"""/key/* and /spend/logs in LiteLLM's shape. Master key required; bodies land in the keys issue."""

from __future__ import annotations

from typing import NoReturn

from fastapi import APIRouter

from gateway.errors import NotImplementedYet
from gateway.web.auth import AuthenticatedPrincipal

router = APIRouter(tags=["keys"])

_ROUTES = [
    ("POST", "/key/generate"),
    ("GET", "/key/info"),
    ("POST", "/key/info"),
    ("POST", "/key/update"),
    ("POST", "/key/delete"),
    ("GET", "/key/list"),
    ("POST", "/key/regenerate"),
    ("POST", "/key/block"),
    ("POST", "/key/unblock"),
    ("GET", "/spend/logs"),
]


def _not_implemented(principal: AuthenticatedPrincipal) -> NoReturn:
    raise NotImplementedYet("Key management is not implemented in this release yet.")


for _method, _path in _ROUTES:
    router.add_api_route(_path, _not_implemented, methods=[_method], response_model=None)
