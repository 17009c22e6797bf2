"""Render every failure as the OpenAI error envelope, with the right status and no traceback."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from gateway.errors import GatewayError, InvalidRequest
from gateway.observability import logger


def error_response(error: GatewayError) -> JSONResponse:
    return JSONResponse(error.envelope(), status_code=error.status_code, headers=error.headers)


async def _gateway_error(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, GatewayError)
    return error_response(error)


async def _validation_error(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    return error_response(_as_invalid_request(error.errors()))


async def _http_error(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, StarletteHTTPException)
    status = error.status_code
    code = {404: "route_not_found", 405: "method_not_allowed"}.get(status, "http_error")
    body = {
        "error": {
            "message": str(error.detail),
            "type": "invalid_request_error",
            "param": None,
            "code": code,
        }
    }
    return JSONResponse(body, status_code=status, headers=getattr(error, "headers", None))


async def _unexpected_error(_: Request, error: Exception) -> JSONResponse:
    logger.exception("unhandled error", extra={"error_type": type(error).__name__})
    body = {
        "error": {
            "message": "The gateway hit an internal error; the request was not completed.",
            "type": "api_error",
            "param": None,
            "code": "internal_error",
        }
    }
    return JSONResponse(body, status_code=500)


def _as_invalid_request(errors: Any) -> InvalidRequest:
    first = errors[0] if errors else {}
    location = [str(part) for part in first.get("loc", ()) if part not in ("body", "query")]
    param = ".".join(location) or None
    if first.get("type") == "json_invalid":
        return InvalidRequest("The request body is not valid JSON.", code="invalid_json")
    message = first.get("msg", "Invalid request")
    if param:
        message = f"{param}: {message}"
    return InvalidRequest(message, param=param, code="invalid_request")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(GatewayError, _gateway_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected_error)
