"""Shared request pipeline: record, authenticate, apply faults, render a reply."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from .errors import error_response
from .state import FakeState, Fault

SSE_MEDIA = "text/event-stream"
CUT_AFTER_EVENTS = 2


class CutStream(Exception):  # noqa: N818 - reads better at the raise site
    """Raised inside a streaming body to drop the connection on purpose."""


@dataclass
class Call:
    """What one provider request asked for."""

    provider: str
    path: str
    model: str | None
    stream: bool
    body: Any
    key_present: bool

    def record(self) -> dict[str, Any]:
        """Call-log entry; never carries credentials."""
        return {
            "provider": self.provider,
            "path": self.path,
            "model": self.model,
            "stream": self.stream,
            "headers_seen": {"authorization_present": self.key_present},
            "body": self.body,
        }


@dataclass
class Reply:
    """A successful answer: JSON body, or pre-formatted SSE frames."""

    json: Any = None
    events: list[str] | None = None


def fake_state(request: Request) -> FakeState:
    """The FakeState of the app serving `request`."""
    return request.app.state.fake  # type: ignore[no-any-return]


async def read_json(request: Request) -> Any:
    """Request JSON, or None when absent/invalid."""
    try:
        return await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None


def bearer_present(request: Request) -> bool:
    """True if an `Authorization: Bearer <non-empty>` header was sent."""
    value = request.headers.get("authorization", "")
    return value.lower().startswith("bearer ") and bool(value[7:].strip())


async def respond(request: Request, call: Call, build: Callable[[], Reply]) -> Response:
    """Run the common pipeline for one provider call."""
    state = fake_state(request)
    state.record(call.record())
    if not call.key_present:
        return error_response(call.provider, 401, "Missing or invalid API key (fake provider).")
    if not isinstance(call.body, dict):
        return error_response(call.provider, 400, "Request body must be a JSON object.")
    fault = state.take_fault()
    if fault is None:
        return render(build())
    return await _apply_fault(state, call, fault, build)


async def _pause(state: FakeState, seconds: float) -> None:
    """Sleep up to `seconds`, waking early when the server is stopping."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not state.stopping.is_set() and (left := deadline - loop.time()) > 0:
        await asyncio.sleep(min(left, 0.05))


async def _apply_fault(
    state: FakeState, call: Call, fault: Fault, build: Callable[[], Reply]
) -> Response:
    if fault.delay_s:
        await _pause(state, fault.delay_s)
    if fault.mode == "hang":
        return render(build())
    if fault.mode == "malformed":
        return _malformed(call.stream)
    if fault.mode == "cut_stream":
        return _cut(build())
    message = f"Injected fault {fault.status} from fake provider."
    return error_response(call.provider, fault.status, message, fault.body, fault.retry_after)


def render(reply: Reply) -> Response:
    """Turn a Reply into a JSON or SSE response."""
    if reply.events is None:
        return JSONResponse(reply.json)
    return StreamingResponse(_iterate(reply.events), media_type=SSE_MEDIA)


async def _iterate(frames: list[str], cut: bool = False) -> AsyncIterator[bytes]:
    for frame in frames:
        yield frame.encode()
        await asyncio.sleep(0)
    if cut:
        raise CutStream("fake provider dropped the connection (cut_stream fault)")


def _cut(reply: Reply) -> Response:
    if reply.events is not None:
        frames = reply.events[:CUT_AFTER_EVENTS]
        return StreamingResponse(_iterate(frames, cut=True), media_type=SSE_MEDIA)
    text = json.dumps(reply.json)
    return StreamingResponse(
        _iterate([text[: len(text) // 2]], cut=True), media_type="application/json"
    )


def _malformed(stream: bool) -> Response:
    if stream:
        return Response('data: {"id": "broken", "choices": [\n\n', media_type=SSE_MEDIA)
    return Response('{"id": "broken", "choices": [', media_type="application/json")


def sse(data: Any, event: str | None = None) -> str:
    """One SSE frame, optionally with an `event:` line."""
    payload = data if isinstance(data, str) else json.dumps(data, separators=(",", ":"))
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {payload}\n\n"


class _DropCutStreamLogs(logging.Filter):
    """Hide uvicorn tracebacks caused by intentional CutStream aborts."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not _contains_cut(exc)


def _contains_cut(exc: BaseException | None) -> bool:
    if exc is None:
        return False
    if isinstance(exc, CutStream):
        return True
    if isinstance(exc, BaseExceptionGroup):
        return any(_contains_cut(e) for e in exc.exceptions)
    return _contains_cut(exc.__cause__ or exc.__context__)


logging.getLogger("uvicorn.error").addFilter(_DropCutStreamLogs())
