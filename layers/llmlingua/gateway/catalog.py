"""Which models the gateway serves, and whether their providers are configured.

Answers /v1/models, /health/readiness and the model check of every request without importing
litellm, so those paths stay fast on a cold start.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from gateway.config import Deployment, GatewayConfig
from gateway.errors import ModelNotFound, ProviderNotConfigured


@dataclass(frozen=True)
class ModelCatalog:
    config: GatewayConfig
    environ: Mapping[str, str]

    def resolve(self, model_name: str, *, mode: str | None = None) -> list[Deployment]:
        """The configured deployments of `model_name`, or the error a client should see."""
        deployments = self.config.deployments_for(model_name)
        if not deployments:
            available = ", ".join(self.config.model_names())
            raise ModelNotFound(
                f"The model '{model_name}' does not exist. Available models: {available}",
                param="model",
            )
        if mode is not None and all(d.mode != mode for d in deployments):
            raise ModelNotFound(
                f"The model '{model_name}' does not support this endpoint ({mode}).",
                param="model",
                code="model_not_supported",
            )
        ready = [d for d in deployments if not d.missing_env(self.environ)]
        if not ready:
            missing = sorted({name for d in deployments for name in d.missing_env(self.environ)})
            raise ProviderNotConfigured(
                f"The model '{model_name}' is served by {deployments[0].provider}, which is not "
                f"configured on this gateway: set {', '.join(missing)}.",
                param="model",
            )
        return ready

    def provider_status(self) -> dict[str, dict[str, Any]]:
        status: dict[str, dict[str, Any]] = {}
        for deployment in self.config.deployments:
            entry = status.setdefault(deployment.provider, {"configured": True, "missing": []})
            for name in deployment.missing_env(self.environ):
                entry["configured"] = False
                if name not in entry["missing"]:
                    entry["missing"].append(name)
        return status

    def openai_model_list(
        self, allowed: Callable[[str], bool] = lambda _: True, created: int = 1_700_000_000
    ) -> dict[str, Any]:
        providers = {
            d.model_name: d.provider for d in self.config.deployments if allowed(d.model_name)
        }
        data = [
            {"id": name, "object": "model", "created": created, "owned_by": provider}
            for name, provider in providers.items()
        ]
        return {"object": "list", "data": data}
