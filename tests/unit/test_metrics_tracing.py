"""X-Ray subsegments for a request's phases, with the times the request measured."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import aws_xray_sdk
import pytest
from aws_xray_sdk.core import xray_recorder
from gateway.auth import Principal
from gateway.metrics.summary import PROVIDER_ENDED, PROVIDER_STARTED, summarize
from gateway.metrics.tracing import _record
from gateway.pipeline import CallContext


@pytest.fixture
def segment() -> Iterator[Any]:
    was_enabled = aws_xray_sdk.global_sdk_config.sdk_enabled()
    aws_xray_sdk.global_sdk_config.set_sdk_enabled(True)
    xray_recorder.configure(context_missing="IGNORE_ERROR", sampling=False)
    root = xray_recorder.begin_segment("test-request")
    yield root
    xray_recorder.clear_trace_entities()
    aws_xray_sdk.global_sdk_config.set_sdk_enabled(was_enabled)


def test_provider_call_is_a_subsegment_between_the_gateway_phases(segment: Any) -> None:
    principal = Principal(is_master=False, key_alias="k", team_id="team-x")
    ctx = CallContext("chat", principal, {"model": "gpt-4o"})
    ctx.notes[PROVIDER_STARTED] = ctx.started + 0.010
    ctx.notes[PROVIDER_ENDED] = ctx.started + 0.510
    ended = ctx.started + 0.520
    _record(ctx, summarize(ctx, ended), ended)
    (request,) = segment.subsegments
    assert request.name == "gateway.request"
    assert request.annotations["team_id"] == "team-x"
    assert request.annotations["model"] == "gpt-4o"
    names = [s.name for s in request.subsegments]
    assert names == ["gateway.before_provider", "provider.call", "gateway.after_provider"]
    provider = request.subsegments[1]
    assert provider.end_time - provider.start_time == pytest.approx(0.5, abs=1e-6)
    assert request.end_time - request.start_time == pytest.approx(0.52, abs=1e-6)
