"""A failed upstream call, shaped like the litellm exceptions `ProviderRouter.translate` reads:
`status_code`, `llm_provider`, `message` and `response` (for Retry-After)."""

from __future__ import annotations

import json
from typing import Any

import httpx

# Retried like litellm's Router (and the openai SDK) retries: timeouts, conflicts, rate limits,
# server errors, plus connection failures and unreadable bodies (no status).
_RETRYABLE = frozenset({408, 409, 429})
_MAX_MESSAGE = 2000


class WireError(Exception):
    def __init__(
        self,
        message: str,
        *,
        provider: str,
        status_code: int | None = None,
        response: httpx.Response | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.llm_provider = provider
        self.status_code = status_code
        self.response = response

    @property
    def retryable(self) -> bool:
        status = self.status_code
        return status is None or status in _RETRYABLE or status >= 500

    @classmethod
    def from_response(cls, response: httpx.Response, provider: str) -> WireError:
        """An error status with the provider's own message (OpenAI's error envelope or text)."""
        return cls(
            _message(response.content) or f"HTTP {response.status_code}",
            provider=provider,
            status_code=response.status_code,
            response=response,
        )

    @classmethod
    def timeout(cls, provider: str, seconds: float) -> WireError:
        return cls(f"Request timed out after {seconds:g} s.", provider=provider, status_code=408)

    @classmethod
    def connection(cls, provider: str, error: Exception) -> WireError:
        return cls(f"Connection error ({type(error).__name__}).", provider=provider)

    @classmethod
    def unreadable(cls, provider: str) -> WireError:
        return cls("The provider's response was not valid JSON.", provider=provider)


def _message(content: bytes) -> str:
    try:
        body: Any = json.loads(content)
    except ValueError:
        return content.decode("utf-8", "replace")[:_MAX_MESSAGE]
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict) and error.get("message"):
        return str(error["message"])[:_MAX_MESSAGE]
    if isinstance(error, str):
        return error[:_MAX_MESSAGE]
    return json.dumps(body)[:_MAX_MESSAGE]
