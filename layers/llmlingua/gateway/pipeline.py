"""The stages a completion request passes through, around the provider call.

Each concern (key limits and budget, cache, compression, metrics) is one `Stage` in its own
module. `before` runs in order and may rewrite `ctx.params` or answer the request itself (a
cache hit); `after` runs in reverse order for every stage whose `before` ran, once the outcome is
known — for a stream, when the stream has ended — so reservations are always settled.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from gateway.auth import Principal
from gateway.errors import GatewayError
from gateway.providers import ProviderResult

CallKind = Literal["chat", "text_completion", "embedding"]


@dataclass
class CallContext:
    """Everything known about one request; stages read it and add what they learn."""

    kind: CallKind
    principal: Principal
    params: dict[str, Any]
    request_headers: Mapping[str, str] = field(default_factory=dict)
    request_id: str = field(default_factory=lambda: f"chatcmpl-{uuid.uuid4().hex}")
    started: float = field(default_factory=time.perf_counter)
    started_epoch: float = field(default_factory=time.time)
    # Filled in as the request proceeds:
    response_headers: dict[str, str] = field(default_factory=dict)
    notes: dict[str, Any] = field(default_factory=dict)  # stage findings: cache_status, ...
    provider: str | None = None
    usage: dict[str, int] | None = None
    cost: float = 0.0
    chunks: list[dict[str, Any]] | None = None  # a stream's chunks, for stages that store it
    response: dict[str, Any] | None = None  # a non-streamed response body
    error: GatewayError | None = None

    @property
    def model(self) -> str:
        return str(self.params["model"])

    @property
    def streaming(self) -> bool:
        return self.kind != "embedding" and bool(self.params.get("stream"))


class Stage(Protocol):
    async def before(self, ctx: CallContext) -> ProviderResult | None:
        """Prepare or refuse the call; return a result to answer without the provider."""

    async def after(self, ctx: CallContext) -> None:
        """Settle once the outcome is known (ctx.error set on failure)."""
