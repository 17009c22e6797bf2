"""The compression engine port: texts in, shorter texts out, each adapter in its own module.

Adapters: engine_inprocess (llmlingua in this process), engine_http (the engine server over
HTTP: a local process, an HTTP endpoint, a GPU service), engine_lambda (the ML function invoked
through the Lambda API). All speak the same wire format (`wire_request` / `wire_texts`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

ENGINE_NAME = "llmlingua-2"


class EngineError(Exception):
    """The engine failed or is unavailable; the caller fails open."""


class CompressionEngine(Protocol):
    name: str  # the adapter: "inprocess", "http", "lambda"

    async def compress(
        self, texts: Sequence[str], rate: float, force_tokens: Sequence[str]
    ) -> list[str]:
        """One compressed text per input text, in order; raises EngineError."""


@dataclass(frozen=True)
class EngineStatus:
    """What /health reports: whether compression runs, with which engine, or why not."""

    enabled: bool
    engine: str | None = None
    reason: str | None = None
    model: str | None = None
    target: str | None = None  # the URL or function name of a remote engine

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


def wire_request(texts: Sequence[str], rate: float, force_tokens: Sequence[str]) -> dict[str, Any]:
    return {"texts": list(texts), "rate": rate, "force_tokens": list(force_tokens)}


def wire_texts(body: Any, expected: int) -> list[str]:
    """The compressed texts of an engine response, checked; raises EngineError."""
    texts = body.get("texts") if isinstance(body, Mapping) else None
    if not isinstance(texts, list) or len(texts) != expected:
        raise EngineError("engine answered without one text per input")
    if not all(isinstance(text, str) for text in texts):
        raise EngineError("engine answered with a non-string text")
    return texts
