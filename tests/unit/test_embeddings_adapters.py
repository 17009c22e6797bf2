"""The embedder adapters: the local ONNX model, the HTTP contract and the Lambda invoke one."""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from gateway.embeddings import Embedder, EmbeddingUnavailable
from gateway.embeddings.factory import build_embedder
from gateway.embeddings.onnx_local import LocalOnnxEmbedder
from gateway.embeddings.remote import HttpEmbedder
from gateway.embeddings.remote_lambda import LambdaEmbedder
from gateway.embeddings.service import embed_response

from tests.cache_support import ensure_embedding_model

# The first test here may build the embedding model (`make embedding-model`: a download and
# a few seconds of work on a fresh machine), so allow more than the suite's 120 s.
pytestmark = pytest.mark.timeout(600)


@pytest.fixture(scope="module")
def local() -> LocalOnnxEmbedder:
    return LocalOnnxEmbedder(ensure_embedding_model())


def test_the_local_model_gives_unit_vectors_that_rank_paraphrases_first(
    local: LocalOnnxEmbedder,
) -> None:
    cat, kitten, stocks = local.embed(
        ["A cat sits on the mat.", "A kitten is sitting on a rug.", "Stock prices fell."]
    )
    dot = lambda a, b: sum(x * y for x, y in zip(a, b, strict=True))  # noqa: E731
    assert len(cat) == 384 and abs(dot(cat, cat) - 1) < 1e-3
    assert dot(cat, kitten) > dot(cat, stocks) + 0.3
    assert isinstance(local, Embedder) and set(local.timings) == {"import_s", "load_s"}


def test_a_missing_model_is_unavailable_not_a_crash(tmp_path: Path) -> None:
    missing = LocalOnnxEmbedder(tmp_path)
    assert not missing.available
    with pytest.raises(EmbeddingUnavailable):
        missing.embed(["x"])


@pytest.fixture
def embed_server(local: LocalOnnxEmbedder) -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            status, reply = embed_response(body, local)
            payload = json.dumps(reply).encode()
            self.send_response(status)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/embed"
    server.shutdown()


def test_the_http_adapter_and_the_service_agree_with_the_local_model(
    embed_server: str, local: LocalOnnxEmbedder
) -> None:
    remote = HttpEmbedder(embed_server, name=local.name)
    (far,) = remote.embed(["What is DNS?"])
    (near,) = local.embed(["What is DNS?"])
    assert max(abs(a - b) for a, b in zip(far, near, strict=True)) < 1e-6


def test_the_service_refuses_a_malformed_request(local: LocalOnnxEmbedder) -> None:
    assert embed_response({"texts": "not a list"}, local)[0] == 400
    assert embed_response({"texts": []}, local)[0] == 400


def test_a_dead_endpoint_is_unavailable() -> None:
    from devstack.ports import free_port

    with pytest.raises(EmbeddingUnavailable):
        HttpEmbedder(f"http://127.0.0.1:{free_port()}/embed", name="x", timeout=0.2).embed(["hi"])


class FakeLambdaClient:
    """Stands in for boto3's Lambda client (an outside system): answers like the ML function."""

    def __init__(self, reply: dict[str, Any]) -> None:
        self.reply, self.payloads = reply, []

    def invoke(self, **kwargs: Any) -> dict[str, Any]:
        self.payloads.append(json.loads(kwargs["Payload"]))
        return {"StatusCode": 200, "Payload": io.BytesIO(json.dumps(self.reply).encode())}


def test_the_lambda_adapter_sends_the_direct_embed_event() -> None:
    client = FakeLambdaClient({"status": 200, "embeddings": [[0.6, 0.8]]})
    assert LambdaEmbedder("ml-fn", client, name="m").embed(["hi"]) == [[0.6, 0.8]]
    assert client.payloads == [{"action": "embed", "texts": ["hi"]}]
    with pytest.raises(EmbeddingUnavailable):
        LambdaEmbedder("ml-fn", FakeLambdaClient({"status": 501, "error": {}}), name="m").embed(
            ["hi"]
        )


def test_the_factory_picks_the_adapter(tmp_path: Path) -> None:
    assert isinstance(
        build_embedder("local/all-MiniLM-L6-v2", model_dir=tmp_path), LocalOnnxEmbedder
    )
    assert isinstance(
        build_embedder(None, model_dir=tmp_path, remote_url="http://x/embed"), HttpEmbedder
    )
    assert isinstance(
        build_embedder("local/x", model_dir=tmp_path, remote_function="fn"), LambdaEmbedder
    )
    assert build_embedder("text-embedding-ada-002", model_dir=tmp_path) is None  # no router given
    both = {
        build_embedder(None, model_dir=tmp_path, remote_url="http://x").name,
        LocalOnnxEmbedder(tmp_path).name,
    }
    assert len(both) == 1  # local and remote share cache entries
