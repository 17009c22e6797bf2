"""Tenant provider credentials: sealed with KMS (moto) or the local dev cipher, bound to the key."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from gateway.errors import DependencyUnavailable
from gateway.keys.credentials import KmsCipher, LocalDevCipher, ProviderCredentials
from moto import mock_aws


@pytest.fixture
def kms(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, str]]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        client = boto3.client("kms", region_name="us-east-1")
        yield client, client.create_key()["KeyMetadata"]["KeyId"]


def test_kms_round_trip_is_bound_to_the_token_id(kms: tuple[Any, str]) -> None:
    credentials = ProviderCredentials(KmsCipher(*kms))
    blob = credentials.seal({"openai": "sk-tenant-openai"}, token_id="a" * 32)
    assert b"sk-tenant-openai" not in blob
    assert credentials.open(blob, "a" * 32) == {"openai": "sk-tenant-openai"}
    # A blob copied onto another key does not open
    with pytest.raises(DependencyUnavailable):
        ProviderCredentials(KmsCipher(*kms)).open(blob, "b" * 32)


def test_local_dev_cipher_detects_tampering_and_the_wrong_key() -> None:
    cipher = LocalDevCipher("pepper")
    blob = cipher.encrypt(b'{"groq":"gsk-secret"}', "t")
    assert b"gsk-secret" not in blob
    assert cipher.decrypt(blob, "t") == b'{"groq":"gsk-secret"}'
    tampered = blob[:-1] + bytes([blob[-1] ^ 1])
    for bad_blob, token_id, secret in (
        (tampered, "t", "pepper"),
        (blob, "u", "pepper"),
        (blob, "t", "x"),
    ):
        with pytest.raises(DependencyUnavailable):
            LocalDevCipher(secret).decrypt(bad_blob, token_id)


def test_each_encryption_is_fresh() -> None:
    cipher = LocalDevCipher("pepper")
    assert cipher.encrypt(b"same", "t") != cipher.encrypt(b"same", "t")


class _CountingCipher(LocalDevCipher):
    decrypts = 0

    def decrypt(self, blob: bytes, token_id: str) -> bytes:
        type(self).decrypts += 1
        return super().decrypt(blob, token_id)


def test_opened_credentials_are_cached_by_ciphertext_so_updates_apply_at_once() -> None:
    credentials = ProviderCredentials(_CountingCipher("pepper"))
    first = credentials.seal({"openai": "one"}, "t")
    assert credentials.open(first, "t") == credentials.open(first, "t") == {"openai": "one"}
    assert _CountingCipher.decrypts == 1
    second = credentials.seal({"openai": "two"}, "t")
    assert credentials.open(second, "t") == {"openai": "two"}
