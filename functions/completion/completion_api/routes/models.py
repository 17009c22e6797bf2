"""GET /v1/models: the public model names of the config, OpenAI's list format."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from gateway.web.auth import AuthenticatedPrincipal

from completion_api.deps import Catalog

router = APIRouter(tags=["models"])


@router.get("/v1/models")
@router.get("/models", include_in_schema=False)
def list_models(principal: AuthenticatedPrincipal, catalog: Catalog) -> dict[str, Any]:
    """The models this caller may use: a virtual key sees only its allowed models."""
    key = principal.key
    return catalog.openai_model_list(key.allows_model if key is not None else lambda _: True)
