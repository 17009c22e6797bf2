"""An API-Gateway-like ASGI dispatcher: one port, several functions' ASGI apps.

Routes come from the template: every `Events` entry of `Type: Api` (or `HttpApi`) on an
`AWS::Serverless::Function`, with `Path` and `Method`. A request goes to the app of the
function that owns the most specific matching path (static segment > `{param}` >
`{greedy+}`), exactly like API Gateway's resource matching. The ASGI scope is passed on
unchanged (path and query string intact) plus `scope["apigw"]` with the matched route.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

FUNCTION_TYPES = ("AWS::Serverless::Function",)
EVENT_TYPES = ("Api", "HttpApi")
ANY = "ANY"


@dataclass(frozen=True)
class Route:
    """One API route: the function that serves it, HTTP method (or ANY) and path template."""

    function: str
    method: str
    path: str


def routes_from_template(template: Mapping[str, Any]) -> list[Route]:
    """Every Api/HttpApi event of every serverless function, in template order."""
    routes: list[Route] = []
    for lid, res in (template.get("Resources") or {}).items():
        if not isinstance(res, Mapping) or res.get("Type") not in FUNCTION_TYPES:
            continue
        events = (res.get("Properties") or {}).get("Events") or {}
        for event in events.values():
            if not isinstance(event, Mapping) or event.get("Type") not in EVENT_TYPES:
                continue
            props = event.get("Properties") or {}
            path = props.get("Path", "/{proxy+}")  # HttpApi without Path: catch-all
            method = str(props.get("Method", ANY)).upper()
            routes.append(Route(lid, method, path))
    return routes


# -- path matching ---------------------------------------------------------------------


def _segments(path: str) -> list[str]:
    return [s for s in path.split("/") if s]


def _match(template: str, path: str) -> tuple[tuple[int, ...], dict[str, str]] | None:
    """(specificity key, path params) if `path` matches `template`; lower key = more specific."""
    tsegs, psegs = _segments(template), _segments(path)
    rank: list[int] = []
    params: dict[str, str] = {}
    for i, seg in enumerate(tsegs):
        if seg.startswith("{") and seg.endswith("+}"):
            rest = psegs[i:]
            if not rest:
                return None
            params[seg[1:-2]] = "/".join(rest)
            rank.append(2)
            return tuple(rank), params
        if i >= len(psegs):
            return None
        if seg.startswith("{") and seg.endswith("}"):
            params[seg[1:-1]] = psegs[i]
            rank.append(1)
        elif seg == psegs[i]:
            rank.append(0)
        else:
            return None
    if len(psegs) != len(tsegs):
        return None
    return tuple(rank), params


# -- responses -------------------------------------------------------------------------


def error_body(message: str, code: str, type_: str = "invalid_request_error") -> bytes:
    """OpenAI error envelope, as the deployed API maps its gateway responses."""
    body = {"error": {"message": message, "type": type_, "param": None, "code": code}}
    return json.dumps(body).encode()


async def _send_json(
    send: Send, status: int, body: bytes, extra: list[tuple[bytes, bytes]]
) -> None:
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        *extra,
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


# -- lifespan --------------------------------------------------------------------------


class _Lifespan:
    """Drives one app's lifespan protocol from inside the dispatcher's own lifespan."""

    def __init__(self, app: ASGIApp, scope: Scope) -> None:
        self.inbox: asyncio.Queue[Message] = asyncio.Queue()
        self.outbox: asyncio.Queue[Message] = asyncio.Queue()
        self.task = asyncio.ensure_future(self._run(app, scope))

    async def _run(self, app: ASGIApp, scope: Scope) -> None:
        try:
            # An app without lifespan support raises here; like uvicorn, carry on.
            with contextlib.suppress(Exception):
                await app(scope, self.inbox.get, self.outbox.put)
        finally:
            await self.outbox.put({"type": "exited"})

    async def call(self, event: str) -> Message:
        await self.inbox.put({"type": event})
        return await self.outbox.get()


async def _lifespan(
    apps: list[ASGIApp], states: list[dict[str, Any]], scope: Scope, receive: Receive, send: Send
) -> None:
    runners: list[_Lifespan] = []
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            failures: list[str] = []
            for app, state in zip(apps, states, strict=True):
                runner = _Lifespan(app, {**scope, "state": state})
                reply = await runner.call("lifespan.startup")
                if reply["type"] == "lifespan.startup.failed":
                    failures.append(str(reply.get("message", "")))
                elif reply["type"] == "lifespan.startup.complete":
                    runners.append(runner)
            if failures:
                for runner in runners:
                    runner.task.cancel()
                reason = "; ".join(failures)
                await send({"type": "lifespan.startup.failed", "message": reason})
                raise RuntimeError(f"startup failed: {reason}")  # as Starlette does
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            failures = []
            for runner in reversed(runners):
                reply = await runner.call("lifespan.shutdown")
                if reply["type"] == "lifespan.shutdown.failed":
                    failures.append(str(reply.get("message", "")))
                await runner.task
            if failures:
                reason = "; ".join(failures)
                await send({"type": "lifespan.shutdown.failed", "message": reason})
                raise RuntimeError(f"shutdown failed: {reason}")
            await send({"type": "lifespan.shutdown.complete"})
            return


# -- dispatcher ------------------------------------------------------------------------


def build_dispatcher(template: Mapping[str, Any], apps: Mapping[str, ASGIApp]) -> ASGIApp:
    """ASGI app routing each template route to `apps[function logical id]`.

    Unknown path -> 404 `route_not_found`; known path, other method -> 405
    `method_not_allowed`; route of a function without an app -> 502. Lifespan events are
    forwarded to every distinct app.
    """
    routes = routes_from_template(template)
    unknown = sorted(set(apps) - {r.function for r in routes})
    if unknown:
        raise ValueError(f"apps for functions with no Api routes in the template: {unknown}")
    # Each distinct app gets one lifespan and its own lifespan state, which is copied into
    # its requests' scopes (as ASGI servers do).
    distinct: list[ASGIApp] = []
    states: list[dict[str, Any]] = []
    state_of: dict[str, dict[str, Any]] = {}
    for function, app in apps.items():
        index = next((i for i, seen in enumerate(distinct) if seen is app), None)
        if index is None:
            distinct.append(app)
            states.append({})
            index = len(distinct) - 1
        state_of[function] = states[index]

    async def dispatcher(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(distinct, states, scope, receive, send)
            return
        if scope["type"] != "http":
            await send({"type": "websocket.close", "code": 1000})
            return
        method, path = scope["method"].upper(), scope["path"]
        best: tuple[int, ...] | None = None
        candidates: list[tuple[Route, dict[str, str]]] = []
        for route in routes:
            matched = _match(route.path, path)
            if matched is None:
                continue
            rank, params = matched
            if best is None or rank < best:
                best, candidates = rank, [(route, params)]
            elif rank == best:
                candidates.append((route, params))
        if not candidates:
            body = error_body(f"No route for {method} {path}", "route_not_found")
            await _send_json(send, 404, body, [])
            return
        chosen = next((c for c in candidates if c[0].method == method), None)
        chosen = chosen or next((c for c in candidates if c[0].method == ANY), None)
        if chosen is None:
            allowed = ", ".join(sorted({r.method for r, _ in candidates}))
            body = error_body(f"Method {method} not allowed for {path}", "method_not_allowed")
            await _send_json(send, 405, body, [(b"allow", allowed.encode())])
            return
        route, params = chosen
        app = apps.get(route.function)
        if app is None:
            body = error_body(
                f"Function {route.function} is not loaded", "function_not_loaded", "api_error"
            )
            await _send_json(send, 502, body, [])
            return
        info = {"function": route.function, "resource": route.path, "path_parameters": params}
        child = {**scope, "apigw": info}
        if "state" in scope:
            child["state"] = dict(state_of[route.function])
        await app(child, receive, send)

    return dispatcher
