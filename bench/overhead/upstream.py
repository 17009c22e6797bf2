"""A minimal OpenAI-compatible upstream with no delay: raw asyncio HTTP/1.1 with keep-alive.

`python -m bench.overhead.upstream --port N` serves, on 127.0.0.1 only:
  POST .../chat/completions  a fixed chat.completion (fresh id, usage filled in)
  GET  anything else         200 {"object": "list", "data": []}
It parses just enough HTTP (request line, headers, Content-Length or chunked body) to serve
httpx, aiohttp and the openai SDK. No framework and no JSON parsing of the request, so its own
latency is a few tens of microseconds: the overhead bench subtracts it out, and the less noise it
adds the smaller the gateway's added latency that can be resolved.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import time

LOOPBACK = "127.0.0.1"
_IDS = itertools.count()


def chat_completion(model: str = "gpt-4o-mini") -> bytes:
    body = {
        "id": f"chatcmpl-bench{next(_IDS)}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "system_fingerprint": "fp_bench",
        "service_tier": "default",
        "choices": [
            {
                "index": 0,
                "logprobs": None,
                "finish_reason": "stop",
                "message": {"role": "assistant", "content": "ok", "refusal": None},
            }
        ],
        "usage": {"prompt_tokens": 20, "completion_tokens": 1, "total_tokens": 21},
    }
    return json.dumps(body, separators=(",", ":")).encode()


def response(status: str, body: bytes, keep_alive: bool) -> bytes:
    head = (
        f"HTTP/1.1 {status}\r\ncontent-type: application/json\r\n"
        f"content-length: {len(body)}\r\nconnection: {'keep-alive' if keep_alive else 'close'}"
        "\r\n\r\n"
    )
    return head.encode() + body


async def _read_body(reader: asyncio.StreamReader, headers: dict[str, str]) -> bytes:
    if headers.get("transfer-encoding", "").lower() == "chunked":
        parts: list[bytes] = []
        while True:
            size = int((await reader.readline()).split(b";")[0].strip() or b"0", 16)
            if size == 0:
                await reader.readline()
                return b"".join(parts)
            parts.append(await reader.readexactly(size))
            await reader.readexactly(2)
    length = int(headers.get("content-length", "0") or 0)
    return await reader.readexactly(length) if length else b""


async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            method, path, _version = lines[0].split(" ", 2)
            headers = {}
            for line in lines[1:]:
                if ":" in line:
                    name, value = line.split(":", 1)
                    headers[name.strip().lower()] = value.strip()
            if headers.get("expect", "").lower() == "100-continue":
                writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            await _read_body(reader, headers)
            keep_alive = headers.get("connection", "").lower() != "close"
            if method == "POST" and path.split("?")[0].endswith("/chat/completions"):
                writer.write(response("200 OK", chat_completion(), keep_alive))
            else:
                writer.write(response("200 OK", b'{"object":"list","data":[]}', keep_alive))
            await writer.drain()
            if not keep_alive:
                break
    except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError, ValueError):
        pass
    finally:
        writer.close()


async def serve(port: int, ready: str | None) -> None:
    server = await asyncio.start_server(handle, LOOPBACK, port, backlog=512)
    bound = server.sockets[0].getsockname()[1]
    if ready:
        with open(ready, "w") as out:  # noqa: ASYNC230 - once, before serving
            out.write(str(bound))
    print(f"upstream on http://{LOOPBACK}:{bound}", flush=True)
    async with server:
        await server.serve_forever()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--ready-file", help="write the bound port here once listening")
    args = parser.parse_args(argv)
    try:
        import uvloop  # type: ignore[import-not-found]

        uvloop.install()
    except ImportError:
        pass
    asyncio.run(serve(args.port, args.ready_file))


if __name__ == "__main__":
    main()
