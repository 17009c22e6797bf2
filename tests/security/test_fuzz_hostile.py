"""Hand-made hostile inputs against every POST route, in process: oversized bodies, deep JSON,
invalid UTF-8, non-JSON numbers, huge n / max_tokens, CR/LF in headers, huge headers."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from devstack.apigw import routes_from_template
from devstack.cfn import load_template
from devstack.stack import TEMPLATE
from tests.security.inprocess import MASTER, Apps, assert_envelope

pytest_plugins = ["tests.security.inprocess"]

POSTS = [r.path for r in routes_from_template(load_template(TEMPLATE)) if r.method == "POST"]
CHAT = '{"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]'
HOSTILE_BODIES = {
    "oversized": b'{"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "'
    + b"a" * 1_100_000
    + b'"}]}',
    "deep array 10k": b"[" * 10_000 + b"]" * 10_000,
    "deep object 10k": b'{"a":' * 10_000 + b"1" + b"}" * 10_000,
    "deep in a field": (CHAT + ', "metadata": ' + "[" * 5000 + "]" * 5000 + "}").encode(),
    "invalid utf-8": b'{"model": "gpt-4o-mini\xff\xfe", "messages": [{"role": "user", '
    b'"content": "\xc3\x28"}]}',
    "lone surrogate escape": (CHAT[:-1] + ', "user": "\\ud800"}').encode(),
    "NaN": (CHAT + ', "temperature": NaN}').encode(),
    "Infinity": (CHAT + ', "max_tokens": Infinity}').encode(),
    "huge int": (CHAT + ', "max_tokens": ' + "9" * 5000 + "}").encode(),
    "huge n": (CHAT + ', "n": 1000000000}').encode(),
    "huge max_tokens": (CHAT + ', "max_tokens": 1000000000000}').encode(),
    "negative n": (CHAT + ', "n": -1}').encode(),
    "float n": (CHAT + ', "n": 1.5}').encode(),
    "duplicate keys": b'{"model": "gpt-4o-mini", "model": "x", "messages": []}',
    "truncated": CHAT.encode()[:30],
    "empty": b"",
    "null": b"null",
    "bare string": b'"hello"',
    "BOM": b"\xef\xbb\xbf" + (CHAT + "}").encode(),
    "NUL bytes": (CHAT[:-1] + ', "user": "a\\u0000b"}').encode(),
    "many keys": ("{" + ",".join(f'"k{i}": {i}' for i in range(50_000)) + "}").encode(),
    "ssrf api_base": (CHAT + ', "api_base": "http://169.254.169.254/"}').encode(),
}


async def _asgi(
    app: Any, path: str, body: bytes, headers: list[tuple[bytes, bytes]]
) -> tuple[int, bytes]:
    """Call the ASGI app directly: headers reach it byte for byte (no client-side validation)."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"gw"), (b"content-type", b"application/json"), *headers],
        "client": ("127.0.0.1", 1),
        "server": ("gw", 80),
    }
    sent = [{"type": "http.request", "body": body, "more_body": False}]
    status, chunks = 0, []

    async def receive() -> dict[str, Any]:
        return sent.pop(0) if sent else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    return status, b"".join(chunks)


def _app(apps: Apps, path: str) -> Any:
    return apps.keys if path.startswith(("/key", "/spend")) else apps.completion


@pytest.mark.parametrize("path", POSTS)
def test_hostile_bodies_get_a_clean_refusal(apps: Apps, path: str) -> None:
    auth = [(b"authorization", f"Bearer {MASTER}".encode())]
    for name, body in HOSTILE_BODIES.items():
        status, content = asyncio.run(_asgi(_app(apps, path), path, body, auth))
        assert_envelope(status, content, (path, name))
        if name == "oversized":
            assert status == 413, name
        elif name == "BOM" and path in ("/v1/chat/completions", "/chat/completions"):
            assert status == 200  # a UTF-8 BOM before valid JSON is tolerated, as by OpenAI
        else:
            assert 400 <= status < 500, (path, name, status, content[:200])


HOSTILE_HEADERS = {
    "CRLF in the key": [(b"authorization", f"Bearer {MASTER}\r\nx-injected: 1".encode())],
    "LF in the key": [(b"authorization", b"Bearer sk-abc\nSet-Cookie: a=b")],
    "NUL in the key": [(b"authorization", b"Bearer sk-\x00abc")],
    "non-ASCII key": [(b"authorization", "Bearer sk-\u00e9\u00e9\u00e9".encode())],
    "100 KB key": [(b"authorization", b"Bearer sk-" + b"a" * 100_000)],
    "100 KB x-api-key": [(b"x-api-key", b"sk-" + b"b" * 100_000)],
    "two authorization headers": [
        (b"authorization", b"Bearer sk-wrong"),
        (b"authorization", f"Bearer {MASTER}".encode()),
    ],
    "lowercase scheme only": [(b"authorization", b"bearer")],
    "huge cache-control": [
        (b"authorization", f"Bearer {MASTER}".encode()),
        (b"cache-control", b"no-cache, " * 10_000),
    ],
    "huge compression profile": [
        (b"authorization", f"Bearer {MASTER}".encode()),
        (b"x-compression-profile", b"\r\n" + b"p" * 50_000),
    ],
    "injected trace id": [
        (b"authorization", f"Bearer {MASTER}".encode()),
        (b"x-amzn-trace-id", b"Root=1-\r\nx-evil: 1;" + b"z" * 10_000),
    ],
}


@pytest.mark.parametrize("path", POSTS)
def test_hostile_headers_never_break_a_route_or_reach_the_response(apps: Apps, path: str) -> None:
    body = (CHAT + "}").encode() if not path.startswith("/key") else b"{}"
    for name, headers in HOSTILE_HEADERS.items():
        status, content = asyncio.run(_asgi(_app(apps, path), path, body, headers))
        assert_envelope(status, content, (path, name))
        assert b"x-injected" not in content and b"Set-Cookie" not in content, name
        if name.startswith(("CRLF", "LF", "NUL", "non-ASCII", "100 KB", "lowercase")):
            assert status == 401, (path, name, status)
