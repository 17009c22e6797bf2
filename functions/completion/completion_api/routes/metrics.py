"""GET /metrics: the fleet's Prometheus metrics (aggregated in Redis), optionally master-only."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header
from fastapi.responses import Response
from gateway.auth import authenticate, presented_key
from gateway.errors import PermissionDenied
from gateway.metrics import scrape_registry
from gateway.settings import get_settings
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from completion_api.deps import Catalog

router = APIRouter(tags=["metrics"])


@router.get("/metrics")
def prometheus_metrics(
    catalog: Catalog,
    authorization: Annotated[str | None, Header()] = None,
    x_api_key: Annotated[str | None, Header()] = None,
) -> Response:
    settings = get_settings()
    # METRICS_REQUIRE_AUTH, or LiteLLM's own `litellm_settings.require_auth_for_metrics_endpoint`.
    litellm_settings = catalog.config.litellm_settings
    if settings.metrics_require_auth or litellm_settings.get("require_auth_for_metrics_endpoint"):
        principal = authenticate(presented_key(authorization, x_api_key), settings)
        if not principal.is_master:
            raise PermissionDenied("GET /metrics needs the master key.")
    return Response(generate_latest(scrape_registry()), media_type=CONTENT_TYPE_LATEST)
