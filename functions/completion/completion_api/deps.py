"""Seams between routes and the shared layer, built once per Lambda instance."""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Annotated

from fastapi import Depends
from gateway.cache.wiring import cache_stage
from gateway.catalog import ModelCatalog
from gateway.completions import CompletionService
from gateway.compression.wiring import compression_stage
from gateway.config import load_config
from gateway.keys.factory import virtual_key_stage
from gateway.metrics import ProviderCallTimer, metrics_stage
from gateway.pipeline import Stage
from gateway.providers import ProviderRouter
from gateway.resolution import ModelResolution
from gateway.settings import get_settings


@lru_cache(maxsize=1)
def model_catalog() -> ModelCatalog:
    # The LiteLLM config format resolves `os.environ/NAME` references against the environment.
    return ModelCatalog(load_config(get_settings().gateway_config), os.environ)


@lru_cache(maxsize=1)
def completion_service() -> CompletionService:
    catalog = model_catalog()
    return CompletionService(catalog, ProviderRouter(catalog.config, os.environ), stages())


def stages() -> list[Stage]:
    """The request path's stages, in order (limits and budget, cache, compression, metrics)."""
    return [
        metrics_stage(),  # issue 6: first, so its `after` sees every outcome
        ModelResolution(model_catalog()),  # aliases, unknown model, unconfigured provider
        virtual_key_stage(),  # issue 3: key model access, budget, RPM/TPM/parallel, spend
        cache_stage(model_catalog().config, lambda: completion_service().router),  # issue 4
        compression_stage(model_catalog().config),  # issue 5: after keys/limits and cache
        ProviderCallTimer(),  # issue 6: keep LAST: it times the provider call
    ]


# FastAPI runs a plain `def` dependency in a worker thread; under Mangum that costs a thread
# start per invocation (anyio's workers end with each invocation's root task). These are cheap
# cached lookups, so they are async and run on the event loop.
async def _catalog() -> ModelCatalog:
    return model_catalog()


async def _completion_service() -> CompletionService:
    return completion_service()


Catalog = Annotated[ModelCatalog, Depends(_catalog)]
Completions = Annotated[CompletionService, Depends(_completion_service)]
