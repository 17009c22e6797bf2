"""Through the local stack with the openai SDK: every model, streaming, routing and retries."""

from __future__ import annotations

import openai
import pytest
from gateway.config import load_config

from devstack.stack import ROOT, LocalStack

SHIPPED = load_config(ROOT / "config" / "litellm_config.yaml")
CHAT_MODELS = [(d.model_name, d.provider) for d in SHIPPED.deployments if d.mode == "chat"]


@pytest.mark.parametrize(("model", "provider"), CHAT_MODELS)
def test_every_chat_model_answers_through_its_provider(
    client: openai.OpenAI, stack: LocalStack, model: str, provider: str
) -> None:
    # Given the shipped config with each provider pointed at its fake server
    # When a chat completion is requested for the public model name
    reply = client.chat.completions.create(
        model=model, messages=[{"role": "user", "content": f"hello {model}"}]
    )
    # Then that provider's server answered, and the SDK parsed a complete response
    assert f"fake-{provider}" in reply.choices[0].message.content
    assert f"hello {model}" in reply.choices[0].message.content
    assert reply.usage.prompt_tokens > 0 and reply.usage.completion_tokens > 0
    assert stack.fakes[provider].calls()["count"] == 1


@pytest.mark.parametrize(("model", "provider"), CHAT_MODELS)
def test_every_chat_model_streams(client: openai.OpenAI, model: str, provider: str) -> None:
    stream = client.chat.completions.create(
        model=model, messages=[{"role": "user", "content": "stream please"}], stream=True
    )
    text = "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)
    assert f"fake-{provider}" in text
    assert "stream please" in text


def test_stream_is_server_sent_events_ending_in_done(client: openai.OpenAI) -> None:
    raw = client.chat.completions.with_raw_response.create(
        model="gpt-4o", messages=[{"role": "user", "content": "sse"}], stream=True
    )
    assert raw.headers["content-type"].startswith("text/event-stream")
    body = raw.http_response.read().decode()
    assert body.rstrip().endswith("data: [DONE]")
    assert body.count("data: ") >= 3


def test_models_lists_every_configured_model(client: openai.OpenAI) -> None:
    listed = {model.id for model in client.models.list()}
    assert set(SHIPPED.model_names()) <= listed


def test_text_completion_and_embeddings(client: openai.OpenAI) -> None:
    completion = client.completions.create(model="gpt-3.5-turbo-instruct", prompt="say hi")
    assert "say hi" in completion.choices[0].text
    embedding = client.embeddings.create(model="text-embedding-3-small", input=["a", "b"])
    assert len(embedding.data) == 2
    assert len(embedding.data[0].embedding) > 0


def test_simple_shuffle_spreads_calls_over_both_deployments(
    client: openai.OpenAI, stack: LocalStack, extra_fakes: dict
) -> None:
    for _ in range(30):
        client.chat.completions.create(
            model="shuffle-model", messages=[{"role": "user", "content": "which one?"}]
        )
    first, second = stack.fakes["openai"].calls()["count"], extra_fakes["openai-b"].calls()["count"]
    assert first + second == 30
    assert first >= 3 and second >= 3  # P(either < 3 of 30 at p=0.5) is about 1e-6


def test_provider_failing_twice_then_succeeding_is_a_success(
    client: openai.OpenAI, extra_fakes: dict
) -> None:
    extra_fakes["flaky"].inject_fault(status=500, times=2)
    reply = client.chat.completions.create(
        model="flaky-model", messages=[{"role": "user", "content": "retry me"}]
    )
    assert "retry me" in reply.choices[0].message.content
    assert extra_fakes["flaky"].calls()["count"] == 3


def test_provider_always_failing_is_a_502_after_retries(
    client: openai.OpenAI, extra_fakes: dict
) -> None:
    extra_fakes["flaky"].inject_fault(status=500, times=-1)
    with pytest.raises(openai.APIStatusError) as caught:
        client.chat.completions.create(
            model="flaky-model", messages=[{"role": "user", "content": "doomed"}]
        )
    assert caught.value.status_code == 502
    assert caught.value.body["code"] == "upstream_error"
    assert extra_fakes["flaky"].calls()["count"] == 4  # the first try and num_retries=3


def test_provider_rate_limit_is_a_429(client: openai.OpenAI, extra_fakes: dict) -> None:
    extra_fakes["flaky"].inject_fault(status=429, times=-1)
    with pytest.raises(openai.RateLimitError) as caught:
        client.chat.completions.create(
            model="flaky-model", messages=[{"role": "user", "content": "slow down"}]
        )
    assert caught.value.body["type"] == "rate_limit_error"


def test_provider_timeout_is_a_504(client: openai.OpenAI, extra_fakes: dict) -> None:
    extra_fakes["slow"].inject_fault(mode="hang", delay_s=5, times=-1)
    with pytest.raises(openai.APIStatusError) as caught:
        client.chat.completions.create(
            model="slow-model", messages=[{"role": "user", "content": "too slow"}]
        )
    assert caught.value.status_code == 504
    assert caught.value.body["type"] == "timeout_error"


def test_provider_error_text_passes_through_without_our_credentials(
    client: openai.OpenAI, extra_fakes: dict
) -> None:
    leaked = {"error": {"message": "Incorrect API key provided: fake-openai-key", "type": "x"}}
    extra_fakes["flaky"].inject_fault(status=400, times=-1, body=leaked)
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(
            model="flaky-model", messages=[{"role": "user", "content": "leak?"}]
        )
    message = caught.value.body["message"]
    assert "Incorrect API key provided" in message
    assert "fake-openai-key" not in message


def test_stream_cut_midway_ends_with_an_error_not_a_hang(
    client: openai.OpenAI, extra_fakes: dict
) -> None:
    extra_fakes["flaky"].inject_fault(mode="cut_stream", times=-1)
    with pytest.raises(openai.APIError):
        stream = client.chat.completions.create(
            model="flaky-model", messages=[{"role": "user", "content": "cut"}], stream=True
        )
        for _ in stream:
            pass
