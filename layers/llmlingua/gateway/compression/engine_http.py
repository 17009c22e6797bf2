"""The remote engine over HTTP: POST {url}/compress (functions/ml served by uvicorn locally, an
HTTP endpoint, or a GPU service speaking the same wire format)."""

from __future__ import annotations

from collections.abc import Sequence

import httpx

from gateway.compression.engine import EngineError, wire_request, wire_texts


class HttpEngine:
    name = "http"

    def __init__(self, base_url: str, timeout_s: float, client: httpx.AsyncClient | None = None):
        self.base_url = base_url.rstrip("/")
        self._timeout = timeout_s
        self._client = client

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self._timeout)
        return self._client

    async def compress(
        self, texts: Sequence[str], rate: float, force_tokens: Sequence[str]
    ) -> list[str]:
        if not texts:
            return []
        try:
            response = await self._http().post(
                f"{self.base_url}/compress", json=wire_request(texts, rate, force_tokens)
            )
        except httpx.HTTPError as error:
            raise EngineError(f"engine unreachable: {type(error).__name__}") from error
        if response.status_code != 200:
            raise EngineError(f"engine answered HTTP {response.status_code}")
        try:
            body = response.json()
        except ValueError as error:
            raise EngineError("engine answered with invalid JSON") from error
        return wire_texts(body, len(texts))
