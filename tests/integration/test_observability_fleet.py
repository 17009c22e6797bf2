"""Observability through two gateway processes (two Lambda instances) sharing one Valkey:
fleet-wide /metrics, LiteLLM-style headers, Langfuse traces, a team's own callback, JSON logs."""

from __future__ import annotations

import base64
import json
import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
import yaml
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from prometheus_client.parser import text_string_to_metric_families

from devstack.stack import LocalStack
from tests.integration.conftest import MASTER_KEY
from tests.integration.stack import GatewayProcess, write_test_config

LANGFUSE_KEYS = ("pk-lf-test", "sk-lf-test")
PROMPT = "tell me about the observatory"


class FakeLangfuse:
    """Records what arrives on Langfuse's OTLP endpoint, decoded into plain span dicts."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                outer._record(self.path, self.headers.get("authorization"), body)
                self.send_response(200)
                self.send_header("content-type", "application/x-protobuf")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                return None

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def _record(self, path: str, authorization: str | None, body: bytes) -> None:
        request = ExportTraceServiceRequest.FromString(body)
        for resource_spans in request.resource_spans:
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    attrs = {kv.key: _value(kv.value) for kv in span.attributes}
                    self.received.append(
                        {"path": path, "authorization": authorization, "name": span.name,
                         "attributes": attrs}
                    )  # fmt: skip

    def spans_for(self, request_id: str) -> list[dict[str, Any]]:
        key = "langfuse.trace.metadata.request_id"
        return [s for s in self.received if s["attributes"].get(key) == request_id]

    def stop(self) -> None:
        self._server.shutdown()


def _value(value: Any) -> Any:
    kind = value.WhichOneof("value")
    if kind == "array_value":
        return [_value(v) for v in value.array_value.values]
    return getattr(value, kind) if kind else None


@pytest.fixture(scope="module")
def langfuse() -> Iterator[FakeLangfuse]:
    server = FakeLangfuse()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def fleet(
    stack: LocalStack, langfuse: FakeLangfuse, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[GatewayProcess, GatewayProcess, Path]]:
    workdir = tmp_path_factory.mktemp("observability")
    config_path = write_test_config(workdir / "config.yaml", [], retry_after=0)
    config = yaml.safe_load(config_path.read_text())
    config["litellm_settings"]["callbacks"] = "examples.custom_callbacks.proxy_handler_instance"
    config_path.write_text(yaml.safe_dump(config))
    team_log = workdir / "team_callback.jsonl"
    env = {
        **stack.env,
        "GATEWAY_CONFIG": str(config_path),
        "METRICS_REQUIRE_AUTH": "true",
        "LANGFUSE_PUBLIC_KEY": LANGFUSE_KEYS[0],
        "LANGFUSE_SECRET_KEY": LANGFUSE_KEYS[1],
        "LANGFUSE_HOST": langfuse.url,
        "TELEMETRY_FLUSH_EACH_REQUEST": "true",
        "TEAM_CALLBACK_LOG": str(team_log),
    }
    first = GatewayProcess(env, workdir / "first.log")
    second = GatewayProcess(env, workdir / "second.log")
    # Start both and pay each one's first provider call (litellm import) side by side.
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(lambda p: _chat(p.start()), (first, second)))
    yield first, second, team_log
    first.stop()
    second.stop()


def _client(process: GatewayProcess) -> openai.OpenAI:
    return openai.OpenAI(base_url=process.url + "/v1", api_key=MASTER_KEY, max_retries=0)


def _chat(process: GatewayProcess, **extra: Any) -> Any:
    """A chat call with a prompt never sent before, so the cache cannot answer it."""
    content = f"{PROMPT} #{uuid.uuid4().hex}"
    return _client(process).chat.completions.with_raw_response.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": content}], **extra
    )


def _scrape(process: GatewayProcess) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    response = httpx.get(
        process.url + "/metrics", headers={"Authorization": f"Bearer {MASTER_KEY}"}, timeout=10
    )
    assert response.status_code == 200
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(response.text)
        for s in family.samples
    }


def _requests_ok(scrape: dict[tuple[str, frozenset[tuple[str, str]]], float]) -> float:
    labels = {"model": "gpt-4o-mini", "provider": "openai", "team": "none", "status": "200"}
    return scrape.get(("litellm_requests_total", frozenset(labels.items())), 0.0)


def test_a_scrape_of_either_instance_shows_the_fleet_total(fleet: Any) -> None:
    first, second, _ = fleet
    before = _requests_ok(_scrape(first))
    # When three requests land on one instance and two on the other
    for process in (first, first, first, second, second):
        _chat(process)
    # Then both instances report all five
    assert _requests_ok(_scrape(first)) == before + 5
    assert _requests_ok(_scrape(second)) == before + 5


def test_metrics_needs_the_master_key_when_the_setting_says_so(fleet: Any) -> None:
    first, _, _ = fleet
    assert httpx.get(first.url + "/metrics").status_code == 401
    answer = httpx.get(first.url + "/metrics", headers={"Authorization": f"Bearer {MASTER_KEY}"})
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    for name in ("litellm_cache_hit_total", "litellm_compression_savings_percent",
                 "litellm_overhead_latency_metric", "litellm_spend_total"):  # fmt: skip
        assert f"# TYPE {name}" in answer.text


def test_litellm_headers_on_a_response_a_stream_and_an_error(fleet: Any, stack: LocalStack) -> None:
    first, _, _ = fleet
    wanted = ("x-litellm-call-id", "x-litellm-response-cost", "x-litellm-overhead-duration-ms",
              "x-litellm-model-id", "x-litellm-attempted-retries")  # fmt: skip
    plain = _chat(first)
    stream = _chat(first, stream=True)
    stream.http_response.read()
    for raw in (plain, stream):
        assert all(raw.headers.get(h) for h in wanted), dict(raw.headers)
    assert float(plain.headers["x-litellm-response-cost"]) > 0
    stack.fakes["openai"].inject_fault(status=400, times=1)
    refused = httpx.post(
        first.url + "/v1/chat/completions",
        json={"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "x"}]},
        headers={"Authorization": f"Bearer {MASTER_KEY}"},
    )
    assert refused.status_code == 400
    assert refused.headers["x-litellm-call-id"].startswith("chatcmpl-")
    assert float(refused.headers["x-litellm-overhead-duration-ms"]) >= 0


def test_langfuse_has_the_trace_when_the_response_returns(
    fleet: Any, langfuse: FakeLangfuse
) -> None:
    first, _, _ = fleet
    call_id = _chat(first).headers["x-litellm-call-id"]
    # The stage flushed before answering: no waiting here
    (span,) = langfuse.spans_for(call_id)
    attrs = span["attributes"]
    token = base64.b64encode(":".join(LANGFUSE_KEYS).encode()).decode()
    assert span["path"] == "/api/public/otel/v1/traces"
    assert span["authorization"] == f"Basic {token}"
    assert attrs["langfuse.observation.type"] == "generation"
    assert attrs["langfuse.observation.model.name"] == "gpt-4o-mini"
    assert attrs["gen_ai.usage.input_tokens"] > 0 and attrs["gen_ai.usage.output_tokens"] > 0
    assert attrs["gen_ai.usage.cost"] > 0
    assert attrs["langfuse.trace.metadata.key_alias"] == "master"
    assert "langfuse.trace.metadata.team_id" in attrs
    assert "langfuse.trace.metadata.cache_status" in attrs
    assert not any(PROMPT in json.dumps(v) for v in attrs.values())


def test_a_teams_custom_logger_sees_each_call_with_its_key_alias(fleet: Any) -> None:
    first, second, team_log = fleet
    ids = [_chat(process).headers["x-litellm-call-id"] for process in (first, second)]
    records = [json.loads(line) for line in team_log.read_text().splitlines()]
    seen = {r["call_id"]: r for r in records if r["event"] == "success"}
    for call_id in ids:
        assert seen[call_id]["key_alias"] == "master"
        assert seen[call_id]["model"]
        assert seen[call_id]["total_tokens"] > 0


def test_the_request_log_is_json_with_the_call_id_and_neither_key_nor_prompt(fleet: Any) -> None:
    first, _, _ = fleet
    call_id = _chat(first).headers["x-litellm-call-id"]
    lines = [json.loads(line) for line in first.logs().splitlines() if line.startswith("{")]
    (entry,) = [e for e in lines if e.get("request_id") == call_id]
    assert entry["message"] == "request completed"
    assert entry["key_alias"] == "master" and entry["model"] == "gpt-4o-mini"
    assert entry["duration_ms"] >= entry["overhead_ms"] >= 0
    assert MASTER_KEY not in first.logs()
    assert PROMPT not in first.logs()


def test_a_request_for_an_unknown_model_is_counted_as_a_404(fleet: Any) -> None:
    first, _, _ = fleet

    def refused(scrape: dict[tuple[str, frozenset[tuple[str, str]]], float]) -> float:
        return sum(
            value
            for (name, labels), value in scrape.items()
            if name == "litellm_requests_total" and ("status", "404") in labels
        )

    before = refused(_scrape(first))
    with pytest.raises(openai.NotFoundError):
        _client(first).chat.completions.create(
            model="no-such-model", messages=[{"role": "user", "content": "hi"}]
        )
    assert refused(_scrape(first)) == before + 1
