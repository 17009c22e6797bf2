"""Limiter: the one Lua script, against a real Valkey server."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
import redis
from gateway.errors import DependencyUnavailable
from gateway.limits import Limiter, Limits
from redis.backoff import NoBackoff
from redis.retry import Retry

pytest_plugins = ["tests.unit.keys_support"]


def _admit(limiter: Limiter, limits: Limits, n: int, cost: float = 0.0, tokens: int = 0) -> list:
    return [limiter.admit("k", f"r{i}", limits, cost, tokens) for i in range(n)]


def test_rpm_admits_exactly_the_limit(valkey: redis.Redis) -> None:
    decisions = _admit(Limiter(valkey), Limits(rpm=3), 5)
    assert [d.refused for d in decisions] == [None, None, None, "rpm", "rpm"]
    assert [d.remaining_requests(Limits(rpm=3)) for d in decisions[:3]] == [2, 1, 0]
    assert 1 <= decisions[3].retry_after <= 60


def test_rpm_holds_under_concurrent_admission(valkey: redis.Redis) -> None:
    limiter = Limiter(valkey)
    with ThreadPoolExecutor(16) as pool:
        decisions = list(
            pool.map(lambda i: limiter.admit("k", f"r{i}", Limits(rpm=25), 0.0, 0), range(100))
        )
    assert sum(d.refused is None for d in decisions) == 25


def test_buckets_older_than_the_window_no_longer_count(valkey: redis.Redis) -> None:
    # Given 100 requests recorded 61 s ago (written directly: no waiting a minute)
    old_second = int(valkey.time()[0]) - 61
    valkey.hset("gw:lim:{k}:rpm", old_second, 100)
    # Then they no longer count against a limit of 1
    assert Limiter(valkey).admit("k", "r", Limits(rpm=1), 0.0, 0).refused is None


def test_parallel_slots_are_released_on_settle(valkey: redis.Redis) -> None:
    limiter, limits = Limiter(valkey), Limits(max_parallel=2)
    assert [d.refused for d in _admit(limiter, limits, 3)] == [None, None, "parallel"]
    limiter.settle("k", "r0", 0, limits)
    assert limiter.admit("k", "r9", limits, 0.0, 0).refused is None


def test_a_request_that_never_settles_frees_its_slot_when_its_lease_ends(
    valkey: redis.Redis,
) -> None:
    # A zero-second lease has ended by the next admission (a killed Lambda, fast-forwarded)
    limiter = Limiter(valkey, lease_seconds=0)
    assert limiter.admit("k", "dead", Limits(max_parallel=1), 1.0, 0).refused is None
    assert limiter.admit("k", "next", Limits(max_parallel=1), 1.0, 0).refused is None


def test_tpm_counts_in_flight_estimates_then_actual_tokens(valkey: redis.Redis) -> None:
    limiter, limits = Limiter(valkey), Limits(tpm=100)
    first = limiter.admit("k", "r1", limits, 0.0, 60)
    assert first.refused is None and first.remaining_tokens(limits) == 40
    second = limiter.admit("k", "r2", limits, 0.0, 60)
    assert second.refused is None  # 60 < 100 when it arrived: admitted, may overshoot
    assert limiter.admit("k", "r3", limits, 0.0, 1).refused == "tpm"  # 120 in flight
    limiter.settle("k", "r1", 10, limits)  # r1 actually used 10 tokens
    settled = limiter.settle("k", "r2", 20, limits)
    assert settled.tokens_in_window == 30
    assert limiter.admit("k", "r4", limits, 0.0, 1).refused is None


def test_budget_counts_spend_plus_in_flight_reservations(valkey: redis.Redis) -> None:
    limiter = Limiter(valkey)
    limits = Limits(max_budget=1.0, window_spend=0.5)
    assert limiter.admit("k", "r1", limits, 0.3, 0).refused is None  # 0.5 < 1
    assert limiter.admit("k", "r2", limits, 0.3, 0).refused is None  # 0.8 < 1
    assert limiter.admit("k", "r3", limits, 0.3, 0).refused == "budget"  # 1.1 >= 1
    limiter.settle("k", "r1", 0, limits)
    assert limiter.admit("k", "r4", limits, 0.3, 0).refused is None
    assert limiter.admit("k", "x", Limits(max_budget=1.0, window_spend=1.0), 0.0, 0).refused == (
        "budget"
    )


def test_a_refused_request_reserves_nothing(valkey: redis.Redis) -> None:
    limiter = Limiter(valkey)
    limiter.admit("k", "r1", Limits(rpm=1), 0.0, 0)
    limiter.admit("k", "r2", Limits(rpm=1, max_parallel=5), 0.0, 0)
    assert valkey.zcard("gw:lim:{k}:inflight") == 1


def test_keys_do_not_share_counters(valkey: redis.Redis) -> None:
    limiter = Limiter(valkey)
    assert limiter.admit("a", "r", Limits(rpm=1), 0.0, 0).refused is None
    assert limiter.admit("b", "r", Limits(rpm=1), 0.0, 0).refused is None


def test_an_unreachable_redis_is_a_dependency_error() -> None:
    client = redis.Redis(port=1, socket_connect_timeout=0.2, retry=Retry(NoBackoff(), 0))
    with pytest.raises(DependencyUnavailable):
        Limiter(client).admit("k", "r", Limits(rpm=1), 0.0, 0)
