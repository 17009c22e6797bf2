"""A prometheus_client Collector that serves the fleet's totals stored in Redis."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from prometheus_client import CollectorRegistry
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from gateway.metrics.definitions import BY_NAME, SPECS, MetricSpec
from gateway.metrics.series import SEP
from gateway.observability import logger

Read = Callable[[], Mapping[str, float]]
_Labels = tuple[str, ...]


class FleetCollector(Collector):
    def __init__(self, read: Read | None) -> None:
        self._read = read

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "litellm_metrics_store_up", "1 if the fleet metrics store (Redis) could be read"
        )
        values: Mapping[str, float] = {}
        if self._read is not None:
            try:
                values = self._read()
                up.add_metric([], 1)
            except Exception as error:  # noqa: BLE001 - a scrape reports the outage instead
                logger.warning(
                    "metrics scrape: store unreadable", extra={"error_type": type(error).__name__}
                )
                up.add_metric([], 0)
        else:
            up.add_metric([], 0)
        yield up
        yield from families(values)


def families(values: Mapping[str, float]) -> Iterator[Metric]:
    counters: dict[str, dict[_Labels, float]] = defaultdict(dict)
    histograms: dict[str, dict[_Labels, dict[str, Any]]] = defaultdict(dict)
    for key, value in values.items():
        name, part, *labels = key.split(SEP)
        spec = BY_NAME.get(name)
        if spec is None or len(labels) != len(spec.labels):
            continue  # written by another version of the gateway
        if spec.kind == "counter":
            counters[name][tuple(labels)] = value
        else:
            entry = histograms[name].setdefault(
                tuple(labels), {"buckets": {}, "sum": 0.0, "count": 0.0}
            )
            if part.startswith("b:"):
                entry["buckets"][part[2:]] = value
            elif part in ("sum", "count"):
                entry[part] = value
    for spec in SPECS:
        if spec.kind == "counter":
            yield _counter(spec, counters.get(spec.name, {}))
        else:
            yield _histogram(spec, histograms.get(spec.name, {}))


def _counter(spec: MetricSpec, series: dict[_Labels, float]) -> Metric:
    family = CounterMetricFamily(spec.name, spec.help, labels=spec.labels)
    for labels, value in sorted(series.items()):
        family.add_metric(list(labels), value)
    return family


def _histogram(spec: MetricSpec, series: dict[_Labels, dict[str, Any]]) -> Metric:
    family = HistogramMetricFamily(spec.name, spec.help, labels=spec.labels)
    for labels, entry in sorted(series.items()):
        running, buckets = 0.0, []
        for bound in spec.buckets:
            running += entry["buckets"].get(repr(bound), 0.0)
            buckets.append((_le(bound), running))
        buckets.append(("+Inf", max(entry["count"], running)))
        family.add_metric(list(labels), buckets, entry["sum"])
    return family


def _le(bound: float) -> str:
    return repr(bound)


def fleet_registry(read: Read | None) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(FleetCollector(read))
    return registry
