"""Tenants' own provider API keys, encrypted at rest and bound to the key they belong to.

In AWS: KMS Encrypt/Decrypt (the keys function may only encrypt, the completion function may
only decrypt; the encryption context names the key's token id, so a blob copied onto another
key does not decrypt). Locally, without a KMS key id: `LocalDevCipher`, an HMAC-SHA256
stream cipher with an HMAC tag from the standard library, keyed from the pepper; the factory
refuses it outside GATEWAY_ENV=local.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any, Protocol

from gateway.errors import DependencyUnavailable

PROVIDERS = ("openai", "anthropic", "gemini", "groq")
_CONTEXT_KEY = "gateway:token_id"
_DECRYPTED_CACHE_SIZE = 256


class CredentialCipher(Protocol):
    def encrypt(self, plaintext: bytes, token_id: str) -> bytes: ...

    def decrypt(self, blob: bytes, token_id: str) -> bytes: ...


class KmsCipher:
    """Direct KMS Encrypt/Decrypt: provider keys are far below KMS's 4 KB plaintext limit."""

    def __init__(self, client: Any, key_id: str) -> None:
        self._client = client
        self._key_id = key_id

    def encrypt(self, plaintext: bytes, token_id: str) -> bytes:
        try:
            reply = self._client.encrypt(
                KeyId=self._key_id,
                Plaintext=plaintext,
                EncryptionContext={_CONTEXT_KEY: token_id},
            )
        except Exception as error:  # botocore ClientError/BotoCoreError
            raise DependencyUnavailable("KMS refused to encrypt the credentials.") from error
        return bytes(reply["CiphertextBlob"])

    def decrypt(self, blob: bytes, token_id: str) -> bytes:
        try:
            reply = self._client.decrypt(
                CiphertextBlob=blob, EncryptionContext={_CONTEXT_KEY: token_id}
            )
        except Exception as error:  # botocore ClientError/BotoCoreError
            raise DependencyUnavailable("KMS refused to decrypt the credentials.") from error
        return bytes(reply["Plaintext"])


class LocalDevCipher:
    """Local development only: authenticated encryption with the standard library."""

    _VERSION = b"ldc1"

    def __init__(self, secret: str) -> None:
        root = hashlib.sha256(b"gateway-local-dev-cipher:" + secret.encode()).digest()
        self._enc = hmac.new(root, b"enc", hashlib.sha256).digest()
        self._mac = hmac.new(root, b"mac", hashlib.sha256).digest()

    def encrypt(self, plaintext: bytes, token_id: str) -> bytes:
        nonce = os.urandom(16)
        body = bytes(
            a ^ b for a, b in zip(plaintext, self._stream(nonce, len(plaintext)), strict=True)
        )
        return self._VERSION + nonce + self._tag(nonce, body, token_id) + body

    def decrypt(self, blob: bytes, token_id: str) -> bytes:
        version, nonce, tag, body = blob[:4], blob[4:20], blob[20:52], blob[52:]
        if version != self._VERSION or not hmac.compare_digest(
            tag, self._tag(nonce, body, token_id)
        ):
            raise DependencyUnavailable("The stored credentials do not decrypt with this key.")
        return bytes(a ^ b for a, b in zip(body, self._stream(nonce, len(body)), strict=True))

    def _stream(self, nonce: bytes, length: int) -> bytes:
        blocks = (length + 31) // 32
        stream = b"".join(
            hmac.new(self._enc, nonce + i.to_bytes(4, "big"), hashlib.sha256).digest()
            for i in range(blocks)
        )
        return stream[:length]

    def _tag(self, nonce: bytes, body: bytes, token_id: str) -> bytes:
        message = token_id.encode() + b"\x00" + nonce + body
        return hmac.new(self._mac, message, hashlib.sha256).digest()


class ProviderCredentials:
    """Seal a tenant's {provider: api_key} map, and open it again (cached by ciphertext)."""

    def __init__(self, cipher: CredentialCipher) -> None:
        self._cipher = cipher
        self._opened: OrderedDict[tuple[bytes, str], dict[str, str]] = OrderedDict()

    def seal(self, credentials: Mapping[str, str], token_id: str) -> bytes:
        plaintext = json.dumps(dict(credentials), separators=(",", ":")).encode()
        return self._cipher.encrypt(plaintext, token_id)

    def open(self, blob: bytes, token_id: str) -> dict[str, str]:
        """The plaintext map. A changed blob is a new cache entry, so updates apply at once."""
        cache_key = (blob, token_id)
        if cache_key in self._opened:
            self._opened.move_to_end(cache_key)
            return dict(self._opened[cache_key])
        opened = json.loads(self._cipher.decrypt(blob, token_id))
        self._opened[cache_key] = opened
        if len(self._opened) > _DECRYPTED_CACHE_SIZE:
            self._opened.popitem(last=False)
        return dict(opened)
