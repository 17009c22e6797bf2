"""A provider embedding model (e.g. `text-embedding-ada-002`) through the gateway's router.

Selecting it means every semantic lookup calls the provider, and so imports litellm; exact-tier
hits still never do.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, Protocol

from gateway.embeddings.port import EmbeddingUnavailable


class _EmbeddingRouter(Protocol):
    async def embedding(self, params: dict[str, Any]) -> Any: ...


class ProviderEmbedder:
    """`router` is a getter: the router is built after the stages that use this embedder."""

    def __init__(self, router: Callable[[], _EmbeddingRouter], model: str) -> None:
        self._router = router
        self.model = model
        self.name = f"provider-{model}"

    async def aembed(self, texts: list[str]) -> list[list[float]]:
        try:
            result = await self._router().embedding({"model": self.model, "input": texts})
        except Exception as error:  # noqa: BLE001 - any provider failure degrades the cache
            raise EmbeddingUnavailable(
                f"provider embedding failed: {type(error).__name__}"
            ) from error
        body = result.body if isinstance(result.body, dict) else result.body.model_dump()
        data = sorted(body.get("data") or [], key=lambda item: item.get("index", 0))
        if len(data) != len(texts):
            raise EmbeddingUnavailable("provider returned the wrong number of embeddings")
        return [[float(x) for x in item["embedding"]] for item in data]

    def embed(self, texts: list[str]) -> list[list[float]]:
        """Synchronous use outside an event loop (scripts, benches)."""
        return asyncio.run(self.aembed(texts))
