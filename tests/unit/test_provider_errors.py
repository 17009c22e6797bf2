"""litellm exceptions become the right domain errors, without our credentials in the text."""

from __future__ import annotations

import httpx
import litellm
import pytest
from gateway.config import parse_config
from gateway.errors import (
    UpstreamAuthenticationFailed,
    UpstreamError,
    UpstreamRateLimited,
    UpstreamRejected,
    UpstreamTimeout,
)
from gateway.providers import ProviderRouter

CONFIG = parse_config(
    {
        "model_list": [
            {
                "model_name": "m",
                "litellm_params": {
                    "model": "openai/gpt-4o",
                    "api_key": "os.environ/OPENAI_API_KEY",
                },
            }
        ]
    }
)
SECRET = "sk-proj-SECRETSECRETSECRET"


@pytest.fixture
def router() -> ProviderRouter:
    return ProviderRouter(CONFIG, {"OPENAI_API_KEY": SECRET})


def _response(status: int, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, headers=headers, request=httpx.Request("POST", "http://x"))


@pytest.mark.parametrize(
    ("error", "expected", "status"),
    [
        (litellm.BadRequestError("bad", "gpt-4o", "openai"), UpstreamRejected, 400),
        (litellm.AuthenticationError("no", "openai", "gpt-4o"), UpstreamAuthenticationFailed, 401),
        (litellm.Timeout("slow", "gpt-4o", "openai"), UpstreamTimeout, 504),
        (litellm.InternalServerError("boom", "openai", "gpt-4o"), UpstreamError, 502),
        (litellm.ServiceUnavailableError("down", "openai", "gpt-4o"), UpstreamError, 502),
        (litellm.APIConnectionError("refused", "openai", "gpt-4o"), UpstreamError, 502),
    ],
)
def test_status_mapping(
    router: ProviderRouter, error: Exception, expected: type, status: int
) -> None:
    translated = router.translate(error)
    assert type(translated) is expected
    assert translated.status_code == status


def test_rate_limit_keeps_retry_after(router: ProviderRouter) -> None:
    error = litellm.RateLimitError(
        "slow down", "openai", "gpt-4o", response=_response(429, {"retry-after": "7"})
    )
    translated = router.translate(error)
    assert isinstance(translated, UpstreamRateLimited)
    assert translated.headers["Retry-After"] == "7"


def test_credentials_are_redacted_from_provider_messages(router: ProviderRouter) -> None:
    error = litellm.AuthenticationError(f"Incorrect API key provided: {SECRET}", "openai", "gpt-4o")
    message = router.translate(error).message
    assert SECRET not in message
    assert "Incorrect API key provided" in message


def test_key_shaped_strings_are_redacted_even_if_not_ours(router: ProviderRouter) -> None:
    assert "abcdefghijkl" not in router.redact("key sk-abcdefghijklmnop leaked")
