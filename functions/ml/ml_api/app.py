"""FastAPI app of the ML function: POST /compress, POST /embed, GET /health.

The same app runs under uvicorn (`python -m ml_api`: the local engine process, or any host with
a GPU) and in Lambda (handler.py). POST /2015-03-31/functions/{name}/invocations emulates the
Lambda Invoke API for local runs and tests, so the completion function's Lambda adapter (boto3)
is exercised against the real handler code.
"""

from __future__ import annotations

import time
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from gateway.compression.engine import ENGINE_NAME, EngineError
from pydantic import BaseModel, Field, ValidationError

from ml_api.embed import embed
from ml_api.engine import engine, model_dir

MAX_TEXTS = 512
MAX_FORCE_TOKENS = 90  # llmlingua allows 100 added tokens


class CompressRequest(BaseModel):
    texts: list[str] = Field(max_length=MAX_TEXTS)
    rate: float = Field(gt=0, lt=1)
    force_tokens: list[str] = Field(default_factory=list, max_length=MAX_FORCE_TOKENS)


def compress(body: Any) -> tuple[int, dict[str, Any]]:
    """(status, JSON) for one compress request; shared by HTTP and direct Lambda invocation."""
    try:
        request = CompressRequest.model_validate(body)
    except ValidationError as error:  # the locations only: values may be prompt text
        where = ", ".join(".".join(map(str, e["loc"])) for e in error.errors())
        return 400, _error(f"invalid compress request: {where}", "invalid_request_error")
    current = engine()
    if current is None:
        return 503, _error("no compression model configured", "engine_unavailable")
    started = time.perf_counter()
    try:
        texts = current.compress_sync(request.texts, request.rate, request.force_tokens)
    except EngineError as error:
        return 503, _error(str(error), "engine_unavailable")
    return 200, {
        "texts": texts,
        "engine": ENGINE_NAME,
        "model": current.model_dir.name,
        "latency_ms": round((time.perf_counter() - started) * 1000, 1),
    }


def health() -> dict[str, Any]:
    current = engine()
    directory = model_dir()
    return {
        "state": "ready" if current is not None else "no_model",
        "engine": ENGINE_NAME,
        "model": directory.name if directory else None,
        "loaded": bool(current and current.loaded),
        "load_seconds": current.load_seconds if current else None,
    }


def create_app() -> FastAPI:
    app = FastAPI(title="LLM gateway: ML function", version="0.1.0")

    @app.post("/compress")
    async def compress_route(request: Request) -> JSONResponse:
        status, body = await _threaded(compress, await _json(request))
        return JSONResponse(body, status_code=status)

    @app.post("/embed")
    async def embed_route(request: Request) -> JSONResponse:
        status, body = await _threaded(embed, await _json(request))
        return JSONResponse(body, status_code=status)

    @app.get("/health")
    def health_route() -> dict[str, Any]:
        return health()

    @app.post("/2015-03-31/functions/{name}/invocations")
    async def invoke_route(name: str, request: Request) -> JSONResponse:
        from ml_api.handler import direct

        return JSONResponse(await _threaded(direct, await _json(request)))

    return app


async def _json(request: Request) -> Any:
    try:
        return await request.json()
    except ValueError:
        return None


async def _threaded(function: Any, *args: Any) -> Any:
    import anyio

    return await anyio.to_thread.run_sync(function, *args)


def _error(message: str, code: str) -> dict[str, Any]:
    return {"error": {"message": message, "type": code}}


app = create_app()
