"""An OpenAI server-sent-event stream as chunk dicts; a cut connection, an unreadable event or an
error event ends it with a WireError (never a quiet end), and the connection is always released."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx

from gateway.passthrough.errors import WireError

_DATA = "data:"


class WireStream:
    def __init__(self, response: httpx.Response, provider: str, timeout_s: float) -> None:
        self.response = response
        self.provider = provider
        self.timeout_s = timeout_s

    def __aiter__(self) -> AsyncIterator[dict[str, Any]]:
        return self._chunks()

    async def _chunks(self) -> AsyncIterator[dict[str, Any]]:
        try:
            async for line in self._lines():
                if not line.startswith(_DATA):
                    continue  # comments, `event:` and `id:` lines, blank separators
                data = line[len(_DATA) :].strip()
                if data == "[DONE]":
                    return
                yield self._chunk(data)
        finally:
            await self.response.aclose()

    async def _lines(self) -> AsyncIterator[str]:
        try:
            async for line in self.response.aiter_lines():
                yield line
        except httpx.TimeoutException as error:
            raise WireError.timeout(self.provider, self.timeout_s) from error
        except httpx.HTTPError as error:
            raise WireError.connection(self.provider, error) from error

    def _chunk(self, data: str) -> dict[str, Any]:
        try:
            chunk = json.loads(data)
        except ValueError as error:
            raise WireError.unreadable(self.provider) from error
        if not isinstance(chunk, dict):
            raise WireError.unreadable(self.provider)
        error_body = chunk.get("error")
        if error_body:
            message = error_body.get("message") if isinstance(error_body, dict) else error_body
            raise WireError(str(message)[:2000], provider=self.provider)
        if "usage" in chunk and chunk["usage"] is None:
            del chunk["usage"]  # OpenAI's `"usage": null` on each chunk: litellm drops it too
        return chunk

    async def aclose(self) -> None:
        await self.response.aclose()
