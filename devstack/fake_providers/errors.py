"""Error bodies in each provider's real wire format."""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse, Response

from .text import new_id

_OPENAI_TYPES = {
    400: "invalid_request_error",
    401: "invalid_request_error",
    403: "permission_error",
    404: "invalid_request_error",
    429: "requests",
}
_OPENAI_CODES = {401: "invalid_api_key", 404: "model_not_found", 429: "rate_limit_exceeded"}
_ANTHROPIC_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    529: "overloaded_error",
}
_GEMINI_STATUS = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}


def _openai(status: int, message: str) -> dict[str, Any]:
    kind = _OPENAI_TYPES.get(status, "server_error" if status >= 500 else "invalid_request_error")
    return {
        "error": {
            "message": message,
            "type": kind,
            "param": None,
            "code": _OPENAI_CODES.get(status),
        }
    }


def _anthropic(status: int, message: str) -> dict[str, Any]:
    kind = _ANTHROPIC_TYPES.get(status, "api_error" if status >= 500 else "invalid_request_error")
    return {
        "type": "error",
        "error": {"type": kind, "message": message},
        "request_id": new_id("req_"),
    }


def _gemini(status: int, message: str) -> dict[str, Any]:
    kind = _GEMINI_STATUS.get(status, "INTERNAL" if status >= 500 else "FAILED_PRECONDITION")
    return {"error": {"code": status, "message": message, "status": kind}}


_BUILDERS = {"openai": _openai, "groq": _openai, "anthropic": _anthropic, "gemini": _gemini}


def error_body(provider: str, status: int, message: str) -> dict[str, Any]:
    """Provider-shaped error JSON."""
    return _BUILDERS[provider](status, message)


def error_response(
    provider: str, status: int, message: str, body: Any = None, retry_after: int = 1
) -> Response:
    """Error response; `body` overrides the default JSON; 429 carries retry-after."""
    headers = {"x-request-id": new_id("req_")}
    if status == 429:
        headers["retry-after"] = str(retry_after)
    if isinstance(body, str):
        return Response(body, status_code=status, headers=headers, media_type="application/json")
    content = body if body is not None else error_body(provider, status, message)
    return JSONResponse(content, status_code=status, headers=headers)
