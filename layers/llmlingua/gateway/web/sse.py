"""Server-sent events in the OpenAI format: `data: {chunk}` lines, then `data: [DONE]`."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from gateway.errors import GatewayError

SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


async def sse_events(chunks: AsyncIterator[dict[str, Any]]) -> AsyncIterator[bytes]:
    """Encode chunks; a failure mid-stream ends with an error event instead of a hang or [DONE]."""
    try:
        async for chunk in chunks:
            yield b"data: " + json.dumps(chunk, separators=(",", ":")).encode() + b"\n\n"
    except GatewayError as error:
        yield b"data: " + json.dumps(error.envelope()).encode() + b"\n\n"
        return
    yield b"data: [DONE]\n\n"
