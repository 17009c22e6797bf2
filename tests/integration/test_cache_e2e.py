"""The cache through the local stack: gateway process, real Valkey, fake providers, openai SDK."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openai
import pytest
import yaml

from devstack.ports import free_port
from devstack.stack import ROOT, LocalStack
from tests.cache_support import ensure_embedding_model
from tests.integration.conftest import MASTER_KEY
from tests.integration.stack import PYTHONPATH, GatewayProcess, write_test_config

# The first test here may build the embedding model (`make embedding-model`: a download and
# a few seconds of work on a fresh machine), so allow more than the suite's 120 s.
pytestmark = pytest.mark.timeout(600)


def cached_config(path: Path, namespace: str) -> Path:
    write_test_config(path, [], cache=True, retry_after=0)
    config = yaml.safe_load(path.read_text())
    config["litellm_settings"]["cache_params"]["namespace"] = namespace
    path.write_text(yaml.safe_dump(config))
    return path


@pytest.fixture(scope="module")
def cached_gateway(
    stack: LocalStack, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[GatewayProcess]:
    ensure_embedding_model()
    workdir = tmp_path_factory.mktemp("cache")
    env = {**stack.env, "GATEWAY_CONFIG": str(cached_config(workdir / "config.yaml", "e2e:cache"))}
    process = GatewayProcess(env, workdir / "gateway.log").start()
    yield process
    process.stop()


def client_for(process: GatewayProcess) -> openai.OpenAI:
    return openai.OpenAI(base_url=process.url + "/v1", api_key=MASTER_KEY, max_retries=0)


def ask(process: GatewayProcess, text: str, **extra: Any) -> Any:
    return client_for(process).chat.completions.with_raw_response.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": text}], **extra
    )


def test_a_repeated_question_is_answered_from_the_cache(
    cached_gateway: GatewayProcess, stack: LocalStack
) -> None:
    first = ask(cached_gateway, "What is the capital of Australia?")
    second = ask(cached_gateway, "What is the capital of Australia?")
    assert first.headers["x-cache-status"] == "MISS"
    assert second.headers["x-cache-status"] == "HIT"
    assert second.headers["x-litellm-cache-key"] == first.headers["x-litellm-cache-key"]
    assert second.parse().choices[0].message.content == first.parse().choices[0].message.content
    assert stack.fakes["openai"].calls()["count"] == 1


def test_a_paraphrase_is_a_semantic_hit(cached_gateway: GatewayProcess, stack: LocalStack) -> None:
    ask(cached_gateway, "How do I undo the last git commit?")
    paraphrase = ask(cached_gateway, "How can I undo my last commit in git?")
    assert paraphrase.headers["x-cache-status"] == "SEMANTIC_HIT"
    assert float(paraphrase.headers["x-cache-similarity"]) >= 0.8
    near_miss = ask(cached_gateway, "How do I undo the last 3 git commits?")
    assert near_miss.headers["x-cache-status"] == "MISS"
    assert stack.fakes["openai"].calls()["count"] == 2


def test_a_stream_is_cached_and_replayed_as_server_sent_events(
    cached_gateway: GatewayProcess, stack: LocalStack
) -> None:
    client = client_for(cached_gateway)
    texts = []
    for _ in range(2):
        raw = client.chat.completions.with_raw_response.create(
            model="gpt-4o-mini",
            messages=[{"role": "user", "content": "Stream a haiku about rain."}],
            stream=True,
        )
        body = raw.http_response.read().decode()
        assert raw.headers["content-type"].startswith("text/event-stream")
        assert body.rstrip().endswith("data: [DONE]")
        events = [json.loads(line[6:]) for line in body.splitlines() if line.startswith("data: {")]
        texts.append(
            "".join(e["choices"][0]["delta"].get("content") or "" for e in events if e["choices"])
        )
        texts.append(raw.headers["x-cache-status"])
    assert texts[1] == "MISS" and texts[3] == "HIT"
    assert texts[0] == texts[2] and texts[0]
    assert stack.fakes["openai"].calls()["count"] == 1
    whole = ask(cached_gateway, "Stream a haiku about rain.")
    assert whole.headers["x-cache-status"] == "HIT"
    assert whole.parse().choices[0].message.content == texts[0]


def test_no_cache_reaches_the_provider_without_the_cache_field(
    cached_gateway: GatewayProcess, stack: LocalStack
) -> None:
    ask(cached_gateway, "What is the GDP of Germany?")
    bypass = ask(
        cached_gateway, "What is the GDP of Germany?", extra_body={"cache": {"no-cache": True}}
    )
    header = ask(
        cached_gateway, "What is the GDP of Germany?", extra_headers={"Cache-Control": "no-cache"}
    )
    assert bypass.headers["x-cache-status"] == "BYPASS" == header.headers["x-cache-status"]
    calls = stack.fakes["openai"].calls()
    assert calls["count"] == 3
    assert all("cache" not in call["body"] for call in calls["calls"])


def test_a_redis_outage_is_served_by_the_provider(stack: LocalStack, tmp_path: Path) -> None:
    ensure_embedding_model()
    config = cached_config(tmp_path / "config.yaml", "e2e:down")
    env = {
        **stack.env,
        "GATEWAY_CONFIG": str(config),
        "REDIS_URL": f"redis://127.0.0.1:{free_port()}/0",
    }
    process = GatewayProcess(env, tmp_path / "gateway.log").start()
    try:
        reply = ask(process, "What is the capital of Canada?")
    finally:
        process.stop()
    assert reply.http_response.status_code == 200
    assert reply.headers["x-cache-status"] == "BYPASS"
    assert "fake-openai" in reply.parse().choices[0].message.content


COLD_HIT = """
import json, sys, time
started = time.perf_counter()
from fastapi.testclient import TestClient
from completion_api.app import app
imported = time.perf_counter()
body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": sys.argv[1]}]}
with TestClient(app) as client:
    auth = {"Authorization": "Bearer " + sys.argv[2]}
    response = client.post("/v1/chat/completions", json=body, headers=auth)
print(json.dumps({
    "status": response.headers.get("x-cache-status"), "litellm": "litellm" in sys.modules,
    "onnxruntime": "onnxruntime" in sys.modules, "import_s": imported - started,
    "first_hit_s": time.perf_counter() - started,
}))
"""


def test_an_exact_hit_on_a_cold_instance_never_imports_litellm(
    cached_gateway: GatewayProcess, stack: LocalStack, tmp_path: Path
) -> None:
    prompt = "What is the freezing point of water?"
    ask(cached_gateway, prompt)  # stored by another instance
    config = cached_config(tmp_path / "c.yaml", "e2e:cache")
    env = {**os.environ, **stack.env, "GATEWAY_CONFIG": str(config), "PYTHONPATH": PYTHONPATH}
    out = subprocess.run(  # noqa: S603 - our own code, fixed arguments
        [sys.executable, "-c", COLD_HIT, prompt, MASTER_KEY],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["status"] == "HIT"
    assert result["litellm"] is False and result["onnxruntime"] is False


def test_a_provider_embedding_model_is_selectable(stack: LocalStack, tmp_path: Path) -> None:
    config = cached_config(tmp_path / "config.yaml", "e2e:provider-embeddings")
    data = yaml.safe_load(config.read_text())
    data["litellm_settings"]["cache_params"]["redis_semantic_cache_embedding_model"] = (
        "text-embedding-ada-002"
    )
    config.write_text(yaml.safe_dump(data))
    process = GatewayProcess(
        {**stack.env, "GATEWAY_CONFIG": str(config)}, tmp_path / "gw.log"
    ).start()
    try:
        first = ask(process, "What is the speed of sound?")
        second = ask(process, "What is the speed of sound?")
    finally:
        process.stop()
    embedding_calls = [
        c for c in stack.fakes["openai"].calls()["calls"] if "input" in (c["body"] or {})
    ]
    assert (first.headers["x-cache-status"], second.headers["x-cache-status"]) == ("MISS", "HIT")
    assert embedding_calls and embedding_calls[0]["body"]["model"] == "text-embedding-ada-002"
