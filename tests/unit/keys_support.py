"""Shared fixtures and builders for the virtual-key unit tests (imported by tests/unit/test_keys_*,
test_limits*, test_spend*): moto DynamoDB tables built from template.yaml, and a real Valkey."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
import redis
from gateway.keys.credentials import LocalDevCipher, ProviderCredentials
from gateway.keys.store import KeyStore
from moto import mock_aws

from devstack.cfn import load_template
from devstack.dynamodb import create_tables_from_template
from devstack.stack import TEMPLATE
from devstack.valkey import LocalValkey

PEPPER = "unit-test-pepper"
KEYS_TABLE = "unit-keys"
SPEND_TABLE = "unit-spend-logs"
MODELS = ("gpt-4o", "gpt-4o-mini", "claude-sonnet-4-5", "text-embedding-3-small")


@dataclass
class Tables:
    client: Any
    keys: str = KEYS_TABLE
    spend_logs: str = SPEND_TABLE

    def store(self) -> KeyStore:
        return KeyStore(self.client, self.keys)

    def spend_items(self) -> list[dict[str, Any]]:
        return self.client.scan(TableName=self.spend_logs)["Items"]


@pytest.fixture
def tables(monkeypatch: pytest.MonkeyPatch) -> Iterator[Tables]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("DYNAMODB_ENDPOINT_URL", raising=False)
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        names = {"KeysTable": KEYS_TABLE, "SpendLogsTable": SPEND_TABLE}
        create_tables_from_template(client, load_template(TEMPLATE), names)
        yield Tables(client)


@pytest.fixture(scope="module")
def valkey_server() -> Iterator[LocalValkey]:
    with LocalValkey(with_search=False).start() as server:
        yield server


@pytest.fixture
def valkey(valkey_server: LocalValkey) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(valkey_server.url)
    client.flushall()
    yield client
    client.close()


def local_credentials() -> ProviderCredentials:
    return ProviderCredentials(LocalDevCipher(PEPPER))


MASTER = "sk-unit-master-key"


@pytest.fixture
def gateway_env(tables: Tables, monkeypatch: pytest.MonkeyPatch) -> Iterator[Tables]:
    """The shared layer configured for the moto tables: settings, clients, factories rebuilt."""
    from gateway.clients import clear_clients
    from gateway.keys.factory import clear_factories
    from gateway.settings import get_settings

    for name, value in {
        "LITELLM_MASTER_KEY": MASTER,
        "KEY_PEPPER": PEPPER,
        "KEYS_TABLE": KEYS_TABLE,
        "SPEND_LOGS_TABLE": SPEND_TABLE,
        "GATEWAY_ENV": "local",
    }.items():
        monkeypatch.setenv(name, value)
    for name in ("TENANT_CREDENTIALS_KMS_KEY_ID", "KMS_ENDPOINT_URL", "GATEWAY_CONFIG"):
        monkeypatch.delenv(name, raising=False)

    def reset() -> None:
        get_settings.cache_clear()
        clear_clients()
        clear_factories()

    reset()
    yield tables
    reset()
