"""What a Langfuse trace carries, as OpenTelemetry attributes Langfuse maps to its model."""

from __future__ import annotations

import json

from gateway.errors import UpstreamTimeout
from gateway.metrics.langfuse import attributes
from gateway.metrics.summary import Compression, RequestSummary


def _summary(**changes: object) -> RequestSummary:
    base = dict(
        request_id="chatcmpl-1",
        kind="chat",
        model="gpt-4o",
        provider="openai",
        team_id="team-x",
        key_alias="alice-key",
        user_id=None,
        status=200,
        error=None,
        streaming=False,
        duration_s=0.5,
        provider_s=0.4,
        prompt_tokens=1000,
        completion_tokens=50,
        cost=0.0123,
        cache_status="MISS",
        compression=Compression("compressed", 1000, 250, 0.2),
    )
    base.update(changes)
    return RequestSummary(**base)  # type: ignore[arg-type]


def test_a_generation_carries_model_tokens_cost_cache_compression_key_and_team() -> None:
    attrs = attributes(_summary(), {})
    assert attrs["langfuse.observation.type"] == "generation"
    assert attrs["langfuse.observation.model.name"] == "gpt-4o"
    assert json.loads(attrs["langfuse.observation.usage_details"]) == {
        "input": 1000, "output": 50, "total": 1050,
    }  # fmt: skip
    assert json.loads(attrs["langfuse.observation.cost_details"]) == {"total": 0.0123}
    assert attrs["langfuse.trace.metadata.cache_status"] == "MISS"
    assert attrs["langfuse.trace.metadata.compression_savings_percent"] == 75.0
    assert attrs["langfuse.trace.metadata.key_alias"] == "alice-key"
    assert attrs["langfuse.trace.metadata.team_id"] == "team-x"
    assert attrs["user.id"] == "alice-key"
    assert "team-x" in attrs["langfuse.trace.tags"]


def test_no_prompt_or_output_unless_given() -> None:
    assert not any(k.endswith((".input", ".output")) for k in attributes(_summary(), {}))
    attrs = attributes(_summary(), {"input": {"messages": ["hi"]}})
    assert json.loads(attrs["langfuse.observation.input"]) == {"messages": ["hi"]}


def test_an_error_is_an_error_level_observation() -> None:
    attrs = attributes(_summary(error=UpstreamTimeout("late"), status=504), {})
    assert attrs["langfuse.observation.level"] == "ERROR"
    assert attrs["langfuse.trace.metadata.error_type"] == "UpstreamTimeout"
