"""Health probes in LiteLLM's shape; none of them imports litellm or calls a provider."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from gateway.compression.wiring import compression_status
from gateway.settings import get_settings

from completion_api.deps import Catalog

router = APIRouter(tags=["health"])


@router.get("/health/liveliness")
def liveliness() -> str:
    return "I'm alive!"


@router.get("/health/readiness")
def readiness(catalog: Catalog) -> JSONResponse:
    providers = catalog.provider_status()
    unconfigured = sorted(name for name, state in providers.items() if not state["configured"])
    body: dict[str, Any] = {
        "status": "healthy" if not unconfigured else "degraded",
        "providers": providers,
        "unconfigured_providers": unconfigured,
        "models": len(catalog.config.model_names()),
        "demo_mode": get_settings().demo_mode,
        "compression": compression_status().as_dict(),  # issue 5: enabled, engine or reason
    }
    return JSONResponse(body)


@router.get("/health")
def health(catalog: Catalog) -> dict[str, Any]:
    providers = catalog.provider_status()
    return {
        "status": "healthy",
        "healthy_providers": sorted(p for p, s in providers.items() if s["configured"]),
        "unhealthy_providers": sorted(p for p, s in providers.items() if not s["configured"]),
        "compression": compression_status().as_dict(),  # issue 5: enabled, engine or reason
    }
