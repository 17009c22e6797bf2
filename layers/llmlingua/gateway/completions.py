"""The completion request path: check the model, call the provider, hand back the result.

Later stages (limits, cache, compression, spend) plug in around the provider call here, so
routes stay one service call each.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from gateway.auth import Principal
from gateway.catalog import ModelCatalog
from gateway.providers import ProviderResult, ProviderRouter


class CompletionService:
    def __init__(self, catalog: ModelCatalog, router: ProviderRouter) -> None:
        self.catalog = catalog
        self.router = router

    async def chat(self, principal: Principal, params: dict[str, Any]) -> ProviderResult:
        self.catalog.resolve(params["model"], mode="chat")
        if params.get("stream"):
            return await self._stream("chat", params)
        return await self.router.chat(params)

    async def text_completion(self, principal: Principal, params: dict[str, Any]) -> ProviderResult:
        self.catalog.resolve(params["model"], mode="completion")
        if params.get("stream"):
            return await self._stream("text_completion", params)
        return await self.router.text_completion(params)

    async def embedding(self, principal: Principal, params: dict[str, Any]) -> ProviderResult:
        self.catalog.resolve(params["model"], mode="embedding")
        return await self.router.embedding(params)

    async def _stream(self, kind: str, params: dict[str, Any]) -> ProviderResult:
        """Open the provider stream now (so connect errors map to a status), iterate later."""
        result = await getattr(self.router, kind)(params)
        chunks: AsyncIterator[dict[str, Any]] = self.router.stream_chunks(result.body)
        return ProviderResult(chunks, result.headers)
