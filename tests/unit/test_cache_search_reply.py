"""FT.SEARCH ... NOCONTENT replies in both protocols (valkey-search and RediSearch, RESP2/3)."""

from __future__ import annotations

from gateway.cache.store import _result_ids


def test_resp2_reply_is_the_total_then_the_ids() -> None:
    assert _result_ids([2, b"ns:s:e:{t}:a", b"ns:s:e:{t}:b"]) == [b"ns:s:e:{t}:a", b"ns:s:e:{t}:b"]
    assert _result_ids([0]) == []


def test_resp3_reply_is_a_map_of_results() -> None:
    reply = {b"total_results": 1, b"results": [{b"id": b"k1", b"values": []}]}
    assert _result_ids(reply) == [b"k1"]
