"""POST /v1/chat/completions, /v1/completions, /v1/embeddings (and their unversioned aliases)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, StreamingResponse
from gateway.auth import Principal
from gateway.pipeline import CallContext, CallKind
from gateway.web.auth import AuthenticatedPrincipal
from gateway.web.sse import SSE_HEADERS, sse_events

from completion_api.deps import Completions
from completion_api.schemas import ChatCompletionRequest, CompletionRequest, EmbeddingRequest

router = APIRouter(tags=["inference"])


async def _serve(
    kind: CallKind, body: Any, request: Request, principal: Principal, service: Completions
) -> Any:
    ctx = CallContext(kind, principal, body.provider_params(), dict(request.headers))
    result = await service.handle(ctx)
    if ctx.streaming:
        headers = {**SSE_HEADERS, **result.headers}
        return StreamingResponse(
            sse_events(result.body), media_type="text/event-stream", headers=headers
        )
    return JSONResponse(result.body, headers=result.headers)


@router.post("/v1/chat/completions")
@router.post("/chat/completions", include_in_schema=False)
async def chat_completions(
    body: ChatCompletionRequest,
    request: Request,
    principal: AuthenticatedPrincipal,
    service: Completions,
) -> Any:
    return await _serve("chat", body, request, principal, service)


@router.post("/v1/completions")
@router.post("/completions", include_in_schema=False)
async def completions(
    body: CompletionRequest,
    request: Request,
    principal: AuthenticatedPrincipal,
    service: Completions,
) -> Any:
    return await _serve("text_completion", body, request, principal, service)


@router.post("/v1/embeddings")
@router.post("/embeddings", include_in_schema=False)
async def embeddings(
    body: EmbeddingRequest,
    request: Request,
    principal: AuthenticatedPrincipal,
    service: Completions,
) -> Any:
    return await _serve("embedding", body, request, principal, service)
