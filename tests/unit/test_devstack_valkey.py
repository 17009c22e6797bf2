"""LocalValkey: a real valkey-server child process with (or without) RediSearch."""

from __future__ import annotations

import struct
from collections.abc import Iterator

import pytest
import redis
from redis.commands.search.field import VectorField
from redis.commands.search.index_definition import IndexDefinition
from redis.commands.search.query import Query

from devstack.ports import port_is_open
from devstack.valkey import LocalValkey, has_search_module


@pytest.fixture(scope="module")
def valkey() -> Iterator[LocalValkey]:
    with LocalValkey().start() as server:
        yield server


def _vec(*values: float) -> bytes:
    return struct.pack(f"<{len(values)}f", *values)


def test_starts_on_loopback_with_search_module(valkey: LocalValkey) -> None:
    assert valkey.url == f"redis://127.0.0.1:{valkey.port}/0"
    client = redis.Redis.from_url(valkey.url)
    assert client.ping()
    assert client.config_get("bind")["bind"] == "127.0.0.1"
    assert client.config_get("save")["save"] == ""
    assert has_search_module(client)


def test_vector_index_knn_query(valkey: LocalValkey) -> None:
    client = redis.Redis.from_url(valkey.url)
    index = client.ft("idx:test")
    vector = VectorField(
        "embedding", "HNSW", {"TYPE": "FLOAT32", "DIM": 3, "DISTANCE_METRIC": "COSINE"}
    )
    index.create_index([vector], definition=IndexDefinition(prefix=["doc:"]))
    client.hset("doc:x", mapping={"embedding": _vec(1, 0, 0)})
    client.hset("doc:y", mapping={"embedding": _vec(0, 1, 0)})
    client.hset("doc:z", mapping={"embedding": _vec(0.9, 0.1, 0)})
    query = (
        Query("*=>[KNN 2 @embedding $q AS score]")
        .sort_by("score")
        .return_fields("score")
        .dialect(2)
    )
    result = index.search(query, query_params={"q": _vec(1, 0, 0)})
    docs = result["results"] if isinstance(result, dict) else result.docs  # RESP3 / RESP2
    ids = [d["id"] if isinstance(d, dict) else d.id for d in docs]
    assert [i.decode() if isinstance(i, bytes) else i for i in ids] == ["doc:x", "doc:z"]


def test_pause_makes_server_hang_and_resume_recovers(valkey: LocalValkey) -> None:
    client = redis.Redis.from_url(valkey.url, socket_timeout=0.2)
    valkey.pause()
    try:
        with pytest.raises(redis.TimeoutError):
            client.ping()
    finally:
        valkey.resume()
    client = redis.Redis.from_url(valkey.url, socket_timeout=2)
    assert client.ping()


def test_stop_frees_port_and_is_idempotent() -> None:
    server = LocalValkey(with_search=False).start()
    port = server.port
    assert port_is_open(port)
    server.pause()  # stop must also handle a frozen server
    server.stop()
    assert not server.running
    assert not port_is_open(port)
    server.stop()


def test_without_search_module_has_no_ft_commands() -> None:
    with LocalValkey(with_search=False).start() as server:
        client = redis.Redis.from_url(server.url)
        assert client.ping()
        assert not has_search_module(client)
        with pytest.raises(redis.ResponseError, match="unknown command"):
            client.execute_command("FT.CREATE", "idx", "SCHEMA", "f", "TEXT")


def test_busy_port_gives_clear_error(valkey: LocalValkey) -> None:
    with pytest.raises(RuntimeError, match="already in use"):
        LocalValkey().start(valkey.port)
