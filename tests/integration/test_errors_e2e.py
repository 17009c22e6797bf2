"""Every error is the OpenAI envelope with a fitting status, through the local stack."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import openai
import pytest

from tests.integration.conftest import MASTER_KEY
from tests.integration.stack import GatewayProcess

AUTH = {"Authorization": f"Bearer {MASTER_KEY}"}
# The first provider call of a gateway process imports litellm (4-5 s on 2 cores).
http = httpx.Client(timeout=60)
CHAT = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}


def _assert_envelope(response: httpx.Response, status: int) -> dict:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert "Traceback" not in error["message"]
    return error


def test_missing_key_is_401(gateway: GatewayProcess) -> None:
    error = _assert_envelope(http.post(gateway.url + "/v1/chat/completions", json=CHAT), 401)
    assert error["type"] == "authentication_error"


def test_wrong_key_is_401_for_the_sdk(gateway: GatewayProcess) -> None:
    wrong = openai.OpenAI(base_url=gateway.url + "/v1", api_key="sk-wrong", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        wrong.chat.completions.create(**CHAT)


def test_x_api_key_header_is_accepted(gateway: GatewayProcess) -> None:
    response = http.post(
        gateway.url + "/v1/chat/completions", json=CHAT, headers={"x-api-key": MASTER_KEY}
    )
    assert response.status_code == 200


def test_malformed_json_is_400(gateway: GatewayProcess) -> None:
    response = http.post(
        gateway.url + "/v1/chat/completions",
        content=b'{"model": "gpt-4o", "messages": [',
        headers={**AUTH, "content-type": "application/json"},
    )
    assert _assert_envelope(response, 400)["code"] == "invalid_json"


def test_missing_messages_is_400_naming_the_field(gateway: GatewayProcess) -> None:
    response = http.post(
        gateway.url + "/v1/chat/completions", json={"model": "gpt-4o"}, headers=AUTH
    )
    assert _assert_envelope(response, 400)["param"] == "messages"


def test_wrong_type_is_400(gateway: GatewayProcess) -> None:
    body = {**CHAT, "temperature": "hot"}
    response = http.post(gateway.url + "/v1/chat/completions", json=body, headers=AUTH)
    assert _assert_envelope(response, 400)["param"] == "temperature"


def test_unknown_model_is_404_naming_available_models(client: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        client.chat.completions.create(model="gpt-9", messages=[{"role": "user", "content": "x"}])
    assert "gpt-4o-mini" in caught.value.body["message"]
    assert caught.value.body["param"] == "model"


def test_body_over_the_limit_is_413(gateway: GatewayProcess) -> None:
    huge = {**CHAT, "messages": [{"role": "user", "content": "x" * 1_100_000}]}
    response = http.post(gateway.url + "/v1/chat/completions", json=huge, headers=AUTH)
    assert _assert_envelope(response, 413)["code"] == "request_too_large"


def test_unknown_route_and_wrong_method_are_enveloped(gateway: GatewayProcess) -> None:
    _assert_envelope(http.get(gateway.url + "/v1/nothing-here", headers=AUTH), 404)
    _assert_envelope(http.get(gateway.url + "/v1/chat/completions", headers=AUTH), 405)


def test_keys_routes_are_served_by_the_keys_function(gateway: GatewayProcess) -> None:
    assert http.post(gateway.url + "/key/generate", json={}).status_code == 401
    response = http.post(gateway.url + "/key/generate", json={"max_budget": -1}, headers=AUTH)
    assert _assert_envelope(response, 400)["param"] == "max_budget"


def test_chunked_body_over_the_limit_is_413_without_content_length(
    gateway: GatewayProcess,
) -> None:
    def body() -> Iterator[bytes]:
        yield b'{"model": "gpt-4o", "messages": [{"role": "user", "content": "'
        for _ in range(120):
            yield b"x" * 10_000
        yield b'"}]}'

    response = http.post(
        gateway.url + "/v1/chat/completions",
        content=body(),
        headers={**AUTH, "content-type": "application/json"},
    )
    assert _assert_envelope(response, 413)["code"] == "request_too_large"


@pytest.mark.parametrize(
    "field", ["api_base", "api_key", "mock_response", "litellm_logging_obj", "custom_llm_provider"]
)
def test_client_cannot_set_gateway_only_litellm_options(
    gateway: GatewayProcess, field: str
) -> None:
    # Given a body that tries to redirect the call, swap credentials or fake the answer
    body = {**CHAT, field: "http://169.254.169.254/latest"}
    # When it is sent, Then it is refused before any provider is called
    response = http.post(gateway.url + "/v1/chat/completions", json=body, headers=AUTH)
    assert field in _assert_envelope(response, 400)["message"]


def test_streaming_embeddings_are_refused_cleanly(gateway: GatewayProcess) -> None:
    body = {"model": "text-embedding-3-small", "input": "x", "stream": True}
    response = http.post(gateway.url + "/v1/embeddings", json=body, headers=AUTH)
    assert "stream" in _assert_envelope(response, 400)["message"]
