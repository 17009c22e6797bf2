"""Master-key authentication and settings validation."""

from __future__ import annotations

import pytest
from gateway.auth import authenticate, presented_key
from gateway.errors import AuthenticationFailed
from gateway.settings import Settings
from pydantic import ValidationError


@pytest.mark.parametrize(
    ("authorization", "x_api_key", "expected"),
    [
        ("Bearer sk-a", None, "sk-a"),
        ("bearer   sk-a ", None, "sk-a"),
        (None, "sk-b", "sk-b"),
        ("Basic abc", "sk-b", "sk-b"),
        ("Bearer ", None, None),
        (None, None, None),
    ],
)
def test_presented_key(
    authorization: str | None, x_api_key: str | None, expected: str | None
) -> None:
    assert presented_key(authorization, x_api_key) == expected


def test_master_key_authenticates() -> None:
    settings = Settings(litellm_master_key="sk-master")
    assert authenticate("sk-master", settings).is_master


@pytest.mark.parametrize("key", [None, "", "sk-maste", "sk-masterx"])
def test_other_keys_are_refused(key: str | None) -> None:
    with pytest.raises(AuthenticationFailed):
        authenticate(key, Settings(litellm_master_key="sk-master"))


def test_master_key_must_start_with_sk() -> None:
    with pytest.raises(ValidationError, match="must start with 'sk-'"):
        Settings(litellm_master_key="master")


def test_placeholder_secrets_are_refused_outside_local() -> None:
    with pytest.raises(ValidationError, match="placeholder"):
        Settings(gateway_env="prod", litellm_master_key="sk-change-me", key_pepper="real-pepper")
    with pytest.raises(ValidationError, match="KEY_PEPPER is required"):
        Settings(gateway_env="dev", litellm_master_key="sk-real-key-9f3a")
