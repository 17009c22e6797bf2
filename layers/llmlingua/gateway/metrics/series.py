"""A request summary as increments of Redis hash fields, one field per Prometheus series.

Field layout: `name SEP part SEP v1 SEP v2 ...` with part "" (counter), "b:<le>" (the one
histogram bucket an observation falls in; the collector makes buckets cumulative), "sum" or
"count". The team label is written as TEAM_SLOT and filled in by the Redis script, which admits
at most `max_teams` distinct teams fleet-wide.
"""

from __future__ import annotations

from collections.abc import Iterable

from gateway.metrics.definitions import BY_NAME, NO_TEAM, OVERFLOW, UNKNOWN, MetricSpec
from gateway.metrics.summary import RequestSummary

SEP = "\x1f"
TEAM_SLOT = "\x00"
MAX_LABEL_LENGTH = 64
_RATE_LIMIT_CODES = ("rate_limit_exceeded",)
_BUDGET_CODES = ("budget_exceeded",)

Increment = tuple[str, float]


def clean_label(value: object, max_length: int = MAX_LABEL_LENGTH) -> str:
    """A label value without control characters (they delimit fields), at most max_length."""
    text = "".join(ch for ch in str(value) if ch.isprintable())[:max_length]
    return text or UNKNOWN


class BoundedLabel:
    """Admits the first `cap` distinct values seen by this instance; later ones are OVERFLOW."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self._seen: set[str] = set()

    def __call__(self, value: object) -> str:
        label = clean_label(value) if value else UNKNOWN
        if label in self._seen:
            return label
        if len(self._seen) >= self.cap:
            return OVERFLOW
        self._seen.add(label)
        return label


def team_label(team_id: str | None) -> str:
    return clean_label(team_id) if team_id else NO_TEAM


def field(name: str, part: str, values: Iterable[str]) -> str:
    return SEP.join((name, part, *values))


class SeriesBuilder:
    def __init__(self, model_label: BoundedLabel) -> None:
        self._model = model_label
        self.increments: list[Increment] = []

    def count(self, name: str, amount: float = 1.0, /, **labels: str) -> None:
        if amount:
            self.increments.append((field(name, "", _values(BY_NAME[name], labels)), amount))

    def observe(self, name: str, value: float, /, **labels: str) -> None:
        spec = BY_NAME[name]
        values = _values(spec, labels)
        bucket = next((b for b in spec.buckets if value <= b), None)
        if bucket is not None:
            self.increments.append((field(name, f"b:{bucket!r}", values), 1.0))
        self.increments.append((field(name, "sum", values), value))
        self.increments.append((field(name, "count", values), 1.0))

    def add_request(self, s: RequestSummary) -> list[Increment]:
        model = self._model(s.model)
        provider = clean_label(s.provider) if s.provider else UNKNOWN
        mp = {"model": model, "provider": provider}
        mpt = {**mp, "team": TEAM_SLOT}
        self.count("litellm_requests", status=str(s.status), **mpt)
        self.observe("litellm_request_duration_seconds", s.duration_s, **mp)
        self.observe("litellm_overhead_latency_metric", s.overhead_s, **mp)
        if s.provider_s is not None:
            self.observe("litellm_llm_api_latency_metric", s.provider_s, **mp)
        self.count("litellm_tokens", s.prompt_tokens, type="prompt", **mpt)
        self.count("litellm_tokens", s.completion_tokens, type="completion", **mpt)
        self.count("litellm_spend", s.cost, **mpt)
        if s.error is not None:
            self.count("litellm_errors", error_type=clean_label(s.error_type), **mpt)
            if s.error.code in _RATE_LIMIT_CODES:
                self.count("litellm_rate_limited", **mpt)
            if s.error.code in _BUDGET_CODES:
                self.count("litellm_budget_refused", **mpt)
        self._add_cache(s, model)
        self._add_compression(s, model)
        return self.increments

    def _add_cache(self, s: RequestSummary, model: str) -> None:
        status = s.cache_status
        if status in ("HIT", "SEMANTIC_HIT"):
            kind = "exact" if status == "HIT" else "semantic"
            self.count("litellm_cache_hit", model=model, team=TEAM_SLOT, type=kind)
        elif status == "MISS":
            self.count("litellm_cache_miss", model=model, team=TEAM_SLOT)
        elif status == "BYPASS":
            self.count("litellm_cache_bypass", model=model, team=TEAM_SLOT)

    def _add_compression(self, s: RequestSummary, model: str) -> None:
        c = s.compression
        if c is None:
            return
        self.count("litellm_compression_requests", model=model, outcome=c.outcome)
        if c.outcome == "compressed":
            self.observe("litellm_compression_savings_percent", c.savings_percent, model=model)
            self.count(
                "litellm_compression_tokens", c.original_tokens, model=model, stage="original"
            )
            self.count(
                "litellm_compression_tokens", c.compressed_tokens, model=model, stage="compressed"
            )
        if c.latency_s is not None:
            self.observe("litellm_compression_latency_seconds", c.latency_s, model=model)


def _values(spec: MetricSpec, labels: dict[str, str]) -> list[str]:
    return [labels[name] for name in spec.labels]
