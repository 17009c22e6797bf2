"""OpenAI wire protocol routes (also mounted for Groq under /openai/v1)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from .errors import error_response
from .openai_chat import chat_reply
from .openai_extra import embeddings_reply, text_reply
from .runtime import Call, bearer_present, fake_state, read_json, respond

MODELS = (
    "gpt-4o-mini",
    "gpt-4o",
    "gpt-3.5-turbo-instruct",
    "text-embedding-3-small",
    "llama-3.3-70b-versatile",
)


def build_router(prefix: str, provider: str) -> APIRouter:
    """Routes for one OpenAI-compatible provider mounted at `prefix`."""
    router = APIRouter(prefix=prefix)

    async def _call(request: Request, build: Any) -> Response:
        body = await read_json(request)
        data = body if isinstance(body, dict) else {}
        call = Call(
            provider,
            request.url.path,
            data.get("model"),
            bool(data.get("stream")),
            body,
            bearer_present(request),
        )
        return await respond(request, call, lambda: build(fake_state(request).name, data))

    @router.post("/chat/completions")
    async def chat(request: Request) -> Response:
        return await _call(request, lambda name, data: chat_reply(name, provider, data))

    @router.post("/completions")
    async def completions(request: Request) -> Response:
        return await _call(request, text_reply)

    @router.post("/embeddings")
    async def embeddings(request: Request) -> Response:
        return await _call(request, lambda _name, data: embeddings_reply(data))

    @router.get("/models")
    async def models(request: Request) -> Response:
        if not bearer_present(request):
            return error_response(provider, 401, "Missing or invalid API key (fake provider).")
        owner = "groq" if provider == "groq" else "openai"
        data = [
            {"id": m, "object": "model", "created": 1700000000, "owned_by": owner} for m in MODELS
        ]
        return JSONResponse({"object": "list", "data": data})

    return router
