"""build_dispatcher: routes from a SAM-shaped template to per-function ASGI apps."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route as StarletteRoute
from starlette.testclient import TestClient

from devstack.apigw import ASGIApp, Route, build_dispatcher, routes_from_template
from devstack.ports import free_port


def _api(path: str, method: str) -> dict[str, Any]:
    return {
        "Type": "Api",
        "Properties": {"Path": path, "Method": method, "RestApiId": {"Ref": "GatewayApi"}},
    }


TEMPLATE: dict[str, Any] = {
    "Resources": {
        "GatewayApi": {"Type": "AWS::Serverless::Api", "Properties": {"StageName": "v1"}},
        "CompletionFunction": {
            "Type": "AWS::Serverless::Function",
            "Properties": {
                "Events": {
                    "Chat": _api("/v1/chat/completions", "post"),
                    "Models": _api("/v1/models", "get"),
                    "Model": _api("/v1/models/{model}", "GET"),
                    "Health": _api("/health", "get"),
                    "Sqs": {"Type": "SQS", "Properties": {"Queue": "q"}},
                }
            },
        },
        "KeysFunction": {
            "Type": "AWS::Serverless::Function",
            "Properties": {
                "Events": {
                    "InfoGet": _api("/key/info", "get"),
                    "InfoPost": _api("/key/info", "post"),
                    "Generate": _api("/key/generate", "post"),
                    "Files": {"Type": "HttpApi", "Properties": {"Path": "/files/{path+}"}},
                }
            },
        },
        "KeysTable": {"Type": "AWS::DynamoDB::Table", "Properties": {}},
    }
}


class Recorder:
    """Lifespan events seen by the apps."""

    def __init__(self) -> None:
        self.events: list[str] = []


def completion_app(recorder: Recorder) -> Starlette:
    """A Starlette app with its own routing and a lifespan, like the FastAPI functions."""

    async def echo(request: Request) -> JSONResponse:
        return JSONResponse(
            {
                "app": "completion",
                "method": request.method,
                "path": request.url.path,
                "query": request.url.query,
                "body": (await request.body()).decode(),
                "apigw": request.scope.get("apigw"),
                "state": getattr(request.state, "who", None),
            }
        )

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, str]]:
        recorder.events.append("completion:startup")
        yield {"who": "completion"}  # lifespan state, visible to this app's requests
        recorder.events.append("completion:shutdown")

    paths = ["/v1/chat/completions", "/v1/models", "/v1/models/{model:path}", "/health"]
    routes = [StarletteRoute(p, echo, methods=["GET", "POST"]) for p in paths]
    return Starlette(routes=routes, lifespan=lifespan)


async def keys_app(scope: Any, receive: Any, send: Any) -> None:
    """A bare ASGI app without lifespan support (raises, as many do)."""
    if scope["type"] != "http":
        raise RuntimeError("lifespan not supported")
    body = httpx.Response(
        200,
        json={
            "app": "keys",
            "method": scope["method"],
            "path": scope["path"],
            "query": scope["query_string"].decode(),
            "apigw": scope["apigw"],
        },
    )
    headers = [(k.encode(), v.encode()) for k, v in body.headers.items()]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body.content})


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def client(recorder: Recorder) -> Iterator[TestClient]:
    apps: dict[str, ASGIApp] = {
        "CompletionFunction": completion_app(recorder),
        "KeysFunction": keys_app,
    }
    with TestClient(build_dispatcher(TEMPLATE, apps)) as test_client:
        yield test_client


def test_routes_from_template() -> None:
    routes = routes_from_template(TEMPLATE)
    assert Route("CompletionFunction", "POST", "/v1/chat/completions") in routes
    assert Route("KeysFunction", "GET", "/key/info") in routes
    assert Route("KeysFunction", "ANY", "/files/{path+}") in routes
    assert len(routes) == 8  # the SQS event is not a route


def test_routes_by_method_and_path(client: TestClient) -> None:
    chat = client.post("/v1/chat/completions", content=b'{"model":"m"}')
    assert chat.status_code == 200
    assert chat.json()["app"] == "completion"
    assert chat.json()["body"] == '{"model":"m"}'
    assert client.get("/key/info").json()["method"] == "GET"
    assert client.post("/key/info").json() | {"apigw": None} == {
        "app": "keys",
        "method": "POST",
        "path": "/key/info",
        "query": "",
        "apigw": None,
    }


def test_query_string_is_preserved(client: TestClient) -> None:
    reply = client.get("/key/info?key=sk-1&x=a%20b").json()
    assert reply["query"] == "key=sk-1&x=a%20b"
    assert client.get("/v1/models?limit=2").json()["query"] == "limit=2"


def test_path_parameters(client: TestClient) -> None:
    reply = client.get("/v1/models/gpt-4o").json()
    assert reply["path"] == "/v1/models/gpt-4o"
    assert reply["apigw"] == {
        "function": "CompletionFunction",
        "resource": "/v1/models/{model}",
        "path_parameters": {"model": "gpt-4o"},
    }
    # One segment only for {model}; {path+} is greedy and takes ANY method.
    assert client.get("/v1/models/a/b").status_code == 404
    greedy = client.delete("/files/a/b/c.txt").json()
    assert greedy["apigw"]["path_parameters"] == {"path": "a/b/c.txt"}
    assert client.get("/files").status_code == 404


def test_static_path_beats_parameter() -> None:
    template = {
        "Resources": {
            "A": {
                "Type": "AWS::Serverless::Function",
                "Properties": {"Events": {"P": _api("/x/{id}", "get")}},
            },
            "B": {
                "Type": "AWS::Serverless::Function",
                "Properties": {"Events": {"S": _api("/x/special", "get")}},
            },
        }
    }
    with TestClient(build_dispatcher(template, {"A": keys_app, "B": keys_app})) as tc:
        assert tc.get("/x/special").json()["apigw"]["function"] == "B"
        assert tc.get("/x/other").json()["apigw"]["function"] == "A"


def test_unknown_path_is_404_envelope(client: TestClient) -> None:
    reply = client.get("/nope?x=1")
    assert reply.status_code == 404
    assert reply.headers["content-type"] == "application/json"
    assert reply.json() == {
        "error": {
            "message": "No route for GET /nope",
            "type": "invalid_request_error",
            "param": None,
            "code": "route_not_found",
        }
    }


def test_wrong_method_is_405_envelope(client: TestClient) -> None:
    reply = client.get("/v1/chat/completions")
    assert reply.status_code == 405
    assert reply.headers["allow"] == "POST"
    error = reply.json()["error"]
    assert error["code"] == "method_not_allowed"
    assert error["type"] == "invalid_request_error"
    assert error["param"] is None
    assert client.delete("/key/info").headers["allow"] == "GET, POST"


def test_lifespan_forwarded(recorder: Recorder) -> None:
    apps: dict[str, ASGIApp] = {
        "CompletionFunction": completion_app(recorder),
        "KeysFunction": keys_app,
    }
    with TestClient(build_dispatcher(TEMPLATE, apps)) as tc:
        assert recorder.events == ["completion:startup"]
        assert tc.get("/health").status_code == 200
    assert recorder.events == ["completion:startup", "completion:shutdown"]


def test_lifespan_state_and_one_lifespan_per_app(recorder: Recorder) -> None:
    app = completion_app(recorder)
    apps: dict[str, ASGIApp] = {"CompletionFunction": app, "KeysFunction": app}
    with TestClient(build_dispatcher(TEMPLATE, apps)) as tc:
        assert tc.get("/health").json()["state"] == "completion"
    assert recorder.events == ["completion:startup", "completion:shutdown"]


def test_failed_startup_is_reported() -> None:
    @contextlib.asynccontextmanager
    async def broken(app: Starlette) -> AsyncIterator[None]:
        raise RuntimeError("no config")
        yield

    apps: dict[str, ASGIApp] = {
        "CompletionFunction": Starlette(lifespan=broken),
        "KeysFunction": keys_app,
    }
    with (
        pytest.raises(RuntimeError, match=r"(?s)startup failed: .*no config"),
        TestClient(build_dispatcher(TEMPLATE, apps)),
    ):
        pass


def test_function_without_app_and_unknown_app() -> None:
    with TestClient(build_dispatcher(TEMPLATE, {"KeysFunction": keys_app})) as tc:
        reply = tc.post("/v1/chat/completions")
        assert reply.status_code == 502
        assert reply.json()["error"]["code"] == "function_not_loaded"
    with pytest.raises(ValueError, match="NoSuchFunction"):
        build_dispatcher(TEMPLATE, {"NoSuchFunction": keys_app})


def test_served_by_uvicorn(recorder: Recorder) -> None:
    apps: dict[str, ASGIApp] = {
        "CompletionFunction": completion_app(recorder),
        "KeysFunction": keys_app,
    }
    port = free_port()
    config = uvicorn.Config(
        build_dispatcher(TEMPLATE, apps), host="127.0.0.1", port=port, log_level="warning"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 5
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.01)
        assert server.started
        base = f"http://127.0.0.1:{port}"
        assert httpx.get(f"{base}/v1/models?a=1").json()["query"] == "a=1"
        assert httpx.post(f"{base}/key/generate").json()["app"] == "keys"
        assert httpx.put(f"{base}/key/generate").status_code == 405
    finally:
        server.should_exit = True
        thread.join(timeout=5)
    assert recorder.events == ["completion:startup", "completion:shutdown"]
