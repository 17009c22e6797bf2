"""Authentication of virtual keys: looked up by keyed hash, expiry and block checked in code."""

from __future__ import annotations

from dataclasses import replace

import pytest
from gateway.auth import authenticate
from gateway.errors import AuthenticationFailed, KeyBlocked, KeyExpired
from gateway.keys.hashing import hash_key
from gateway.keys.model import KeyRecord
from gateway.settings import Settings
from pydantic import SecretStr

SETTINGS = Settings(litellm_master_key=SecretStr("sk-master"), key_pepper=SecretStr("pepper"))
RAW = "sk-tenant-key-0123456789"
RECORD = KeyRecord(
    key_hash=hash_key(RAW, "pepper"),
    token_id="t" * 32,
    key_name="sk-...6789",
    created_at="c",
    updated_at="u",
    team_id="team-a",
    aliases={"fast": "gpt-4o-mini"},
)


def _lookup(record: KeyRecord | None):  # type: ignore[no-untyped-def]
    return lambda key_hash: record if record and key_hash == record.key_hash else None


def test_virtual_key_becomes_a_principal_with_its_record() -> None:
    principal = authenticate(RAW, SETTINGS, _lookup(RECORD))
    assert not principal.is_master and principal.key is RECORD
    assert principal.team_id == "team-a" and principal.resolve_model("fast") == "gpt-4o-mini"


def test_master_key_never_touches_the_store() -> None:
    def fail(_: str) -> None:
        raise AssertionError("looked up")

    assert authenticate("sk-master", SETTINGS, fail).is_master


@pytest.mark.parametrize("key", ["sk-unknown-key-0000000", "not-an-sk-key", RAW + "x"])
def test_unknown_keys_are_401(key: str) -> None:
    with pytest.raises(AuthenticationFailed) as refused:
        authenticate(key, SETTINGS, _lookup(RECORD))
    assert refused.value.code == "invalid_api_key"


def test_expired_key_is_401_expired_key_even_if_ttl_has_not_deleted_it() -> None:
    with pytest.raises(KeyExpired) as refused:
        authenticate(RAW, SETTINGS, _lookup(replace(RECORD, expires_at=100.0)), now=100.0)
    assert (refused.value.status_code, refused.value.code) == (401, "expired_key")
    assert authenticate(RAW, SETTINGS, _lookup(replace(RECORD, expires_at=100.0)), now=99.0)


def test_blocked_key_is_403() -> None:
    with pytest.raises(KeyBlocked) as refused:
        authenticate(RAW, SETTINGS, _lookup(replace(RECORD, blocked=True)))
    assert (refused.value.status_code, refused.value.code) == (403, "key_blocked")
