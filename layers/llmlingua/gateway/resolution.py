"""The stage that turns the requested model name into a served model, or the error to answer.

Aliases of the caller's key apply first; then the catalog checks the name exists for this
endpoint and that its provider is configured. It runs as a stage (right after metrics) rather
than before the pipeline so refused requests are counted like any other outcome.
"""

from __future__ import annotations

from gateway.catalog import ModelCatalog
from gateway.config import MODES
from gateway.pipeline import CallContext
from gateway.providers import ProviderResult


class ModelResolution:
    def __init__(self, catalog: ModelCatalog) -> None:
        self.catalog = catalog

    async def before(self, ctx: CallContext) -> ProviderResult | None:
        resolve(self.catalog, ctx)
        return None

    async def after(self, ctx: CallContext) -> None:
        return None


def resolve(catalog: ModelCatalog, ctx: CallContext) -> None:
    ctx.params["model"] = ctx.principal.resolve_model(ctx.model)
    ctx.provider = catalog.resolve(ctx.model, mode=MODES[ctx.kind])[0].provider
