"""The embedder port: texts in, unit-length float vectors out."""

from __future__ import annotations

import asyncio
from typing import Protocol, runtime_checkable


class EmbeddingUnavailable(Exception):  # noqa: N818 - a state, not a programming error
    """The embedder cannot answer (model missing, endpoint down); callers degrade, never fail."""


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into vectors. `name` is stable and becomes part of cache keys."""

    name: str

    def embed(self, texts: list[str]) -> list[list[float]]:
        """One vector per text, in order."""
        ...


async def embed_async(embedder: Embedder, texts: list[str]) -> list[list[float]]:
    """Use the adapter's own coroutine when it has one, else run `embed` off the event loop."""
    native = getattr(embedder, "aembed", None)
    if native is not None:
        result: list[list[float]] = await native(texts)
        return result
    return await asyncio.to_thread(embedder.embed, texts)
