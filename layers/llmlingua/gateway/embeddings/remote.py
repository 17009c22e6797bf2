"""An embedder behind HTTP: `POST {url}` with `{"texts": [...]}` -> `{"embeddings": [[...]]}`.

The ML function serves this contract with `gateway.embeddings.service.embed_response`, so the
completion function can stay a small zip while the model runs elsewhere. stdlib only.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request

from gateway.embeddings.port import EmbeddingUnavailable


class HttpEmbedder:
    def __init__(
        self, url: str, *, name: str, timeout: float = 1.0, api_key: str | None = None
    ) -> None:
        self.url = url
        self.name = name
        self.timeout = timeout
        self._headers = {"Content-Type": "application/json"}
        if api_key:
            self._headers["Authorization"] = f"Bearer {api_key}"

    def embed(self, texts: list[str]) -> list[list[float]]:
        payload = json.dumps({"texts": texts}).encode()
        request = urllib.request.Request(self.url, payload, self._headers, method="POST")  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                body = json.loads(response.read())
        except (OSError, urllib.error.URLError, ValueError) as error:
            raise EmbeddingUnavailable(f"remote embedder failed: {type(error).__name__}") from error
        vectors = body.get("embeddings") if isinstance(body, dict) else None
        if not isinstance(vectors, list) or len(vectors) != len(texts):
            raise EmbeddingUnavailable("remote embedder answered without one vector per text")
        return [[float(x) for x in vector] for vector in vectors]
