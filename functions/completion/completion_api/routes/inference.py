"""POST /v1/chat/completions, /v1/completions, /v1/embeddings (and their unversioned aliases)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse, StreamingResponse

from completion_api.deps import Completions
from completion_api.schemas import ChatCompletionRequest, CompletionRequest, EmbeddingRequest
from gateway.providers import ProviderResult
from gateway.web.auth import AuthenticatedPrincipal
from gateway.web.sse import SSE_HEADERS, sse_events

router = APIRouter(tags=["inference"])


def _respond(result: ProviderResult, streaming: bool) -> Any:
    if streaming:
        headers = {**SSE_HEADERS, **result.headers}
        return StreamingResponse(
            sse_events(result.body), media_type="text/event-stream", headers=headers
        )
    return JSONResponse(result.body.model_dump(), headers=result.headers)


@router.post("/v1/chat/completions")
@router.post("/chat/completions", include_in_schema=False)
async def chat_completions(
    body: ChatCompletionRequest, principal: AuthenticatedPrincipal, service: Completions
) -> Any:
    return _respond(await service.chat(principal, body.provider_params()), body.stream)


@router.post("/v1/completions")
@router.post("/completions", include_in_schema=False)
async def completions(
    body: CompletionRequest, principal: AuthenticatedPrincipal, service: Completions
) -> Any:
    return _respond(await service.text_completion(principal, body.provider_params()), body.stream)


@router.post("/v1/embeddings")
@router.post("/embeddings", include_in_schema=False)
async def embeddings(
    body: EmbeddingRequest, principal: AuthenticatedPrincipal, service: Completions
) -> Any:
    return _respond(await service.embedding(principal, body.provider_params()), False)
