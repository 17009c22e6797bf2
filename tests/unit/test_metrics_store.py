"""The fleet metrics store on a real Valkey: atomic increments, fleet-wide team cap, outages."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from gateway.metrics.collector import fleet_registry
from gateway.metrics.series import TEAM_SLOT, field
from gateway.metrics.store import MetricsStore, redis_client
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from devstack.ports import free_port
from devstack.valkey import LocalValkey


@pytest.fixture(scope="module")
def valkey() -> Iterator[LocalValkey]:
    with LocalValkey(with_search=False) as server:
        yield server


@pytest.fixture
def prefix(request: pytest.FixtureRequest) -> str:
    return f"test:{request.node.name}"


def _store(valkey: LocalValkey, prefix: str, **kwargs: object) -> MetricsStore:
    return MetricsStore(lambda: redis_client(valkey.url, 1.0), prefix=prefix, **kwargs)  # type: ignore[arg-type]


def _samples(store: MetricsStore) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = generate_latest(fleet_registry(store.read)).decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def _requests(model: str, team: str = TEAM_SLOT) -> str:
    return field("litellm_requests", "", [model, "openai", team, "200"])


def test_two_instances_add_up_in_one_scrape(valkey: LocalValkey, prefix: str) -> None:
    # Given two stores standing in for two Lambda instances
    first, second = _store(valkey, prefix), _store(valkey, prefix)
    # When each records requests
    for _ in range(3):
        assert first.write("team-a", [(_requests("gpt-4o"), 1.0)])
    assert second.write("team-a", [(_requests("gpt-4o"), 1.0)])
    # Then a scrape through either shows the fleet total
    key = ("litellm_requests_total", (("model", "gpt-4o"), ("provider", "openai"),
                                       ("status", "200"), ("team", "team-a")))  # fmt: skip
    assert _samples(first)[key] == 4.0
    assert _samples(second)[key] == 4.0


def test_team_labels_beyond_the_fleet_cap_become_overflow(valkey: LocalValkey, prefix: str) -> None:
    first = _store(valkey, prefix, max_teams=2)
    second = _store(valkey, prefix, max_teams=2)
    first.write("team-a", [(_requests("m"), 1.0)])
    second.write("team-b", [(_requests("m"), 1.0)])
    first.write("team-c", [(_requests("m"), 1.0)])  # a third team: over the cap
    second.write("team-a", [(_requests("m"), 1.0)])  # a known team is still itself
    teams = {
        dict(labels)["team"]: value
        for (name, labels), value in _samples(first).items()
        if name == "litellm_requests_total"
    }
    assert teams == {"team-a": 2.0, "team-b": 1.0, "overflow": 1.0}


def test_histogram_buckets_are_cumulative_with_sum_and_count(
    valkey: LocalValkey, prefix: str
) -> None:
    store = _store(valkey, prefix)
    name = "litellm_overhead_latency_metric"
    values = ["gpt-4o", "openai"]
    for seconds, bucket in ((0.0004, "0.0005"), (0.002, "0.0025"), (0.002, "0.0025"), (9.0, None)):
        increments = [(field(name, "sum", values), seconds), (field(name, "count", values), 1.0)]
        if bucket:
            increments.append((field(name, f"b:{bucket}", values), 1.0))
        store.write("none", increments)
    samples = _samples(store)
    labels = (("model", "gpt-4o"), ("provider", "openai"))

    def bucket(le: str) -> float:
        return samples[(f"{name}_bucket", tuple(sorted((*labels, ("le", le)))))]

    assert bucket("0.0005") == 1.0
    assert bucket("0.001") == 1.0
    assert bucket("0.0025") == 3.0
    assert bucket("2.5") == 3.0
    assert bucket("+Inf") == 4.0
    assert samples[(f"{name}_count", labels)] == 4.0
    assert samples[(f"{name}_sum", labels)] == pytest.approx(9.0044)


def test_writes_to_an_unreachable_redis_are_dropped_and_logged_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Given a store whose Redis is not there
    url = f"redis://127.0.0.1:{free_port()}/0"
    store = MetricsStore(lambda: redis_client(url, 0.2), prefix="down", retry_after=0.0)
    # When several requests try to record
    results = [store.write("none", [(_requests("m"), 1.0)]) for _ in range(3)]
    # Then nothing raised, every batch was dropped, and the outage was logged once
    assert results == [False, False, False]
    assert store.dropped == 3
    outage_logs = [r for r in caplog.records if "metrics store unreachable" in r.getMessage()]
    assert len(outage_logs) == 1


def test_a_scrape_with_redis_down_reports_the_store_down() -> None:
    url = f"redis://127.0.0.1:{free_port()}/0"
    store = MetricsStore(lambda: redis_client(url, 0.2), prefix="down")
    text = generate_latest(fleet_registry(store.read)).decode()
    assert "litellm_metrics_store_up 0.0" in text
    assert "# TYPE litellm_requests_total counter" in text
