"""Both functions' ASGI apps in this process, for fuzzing: in-process moto DynamoDB (tables from
template.yaml), a real Valkey for limits, fake providers over HTTP. Every cached factory of the
shared layer is cleared before and after, so other tests in the same worker are not affected."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import httpx
import pytest
from moto import mock_aws

from devstack.cfn import load_template
from devstack.dynamodb import create_tables_from_template
from devstack.fake_providers import FakeProviderServer
from devstack.stack import FAKE_WIRING, OFFLINE_ENV, TEMPLATE
from devstack.valkey import LocalValkey
from tests.integration.stack import write_test_config

MASTER = "sk-fuzz-master-key-000000"
PREFIXES = ("gateway", "completion_api", "keys_api")


def clear_layer_caches() -> None:
    """Every `lru_cache` factory in the shared layer and both functions (settings, clients...)."""
    for name, module in list(sys.modules.items()):
        if module is None or not name.startswith(PREFIXES):
            continue
        for value in list(vars(module).values()):
            if callable(getattr(value, "cache_clear", None)) and hasattr(value, "cache_info"):
                value.cache_clear()


@dataclass
class Apps:
    completion: Any
    keys: Any
    virtual_key: str

    def client(self, app: Any) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw")


@pytest.fixture(scope="module")
def apps(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Apps]:
    # No router retries: a failing input fails once, fast (the shipped config retries 3 times).
    config = write_test_config(
        tmp_path_factory.mktemp("fuzz") / "config.yaml", [], num_retries=0, retry_after=0
    )
    with (
        pytest.MonkeyPatch.context() as env,
        LocalValkey(with_search=False) as valkey,
        FakeProviderServer("fuzz-fake") as fake,
        mock_aws(),
    ):
        settings = {
            **OFFLINE_ENV,
            "GATEWAY_ENV": "local",
            "LITELLM_MASTER_KEY": MASTER,
            "KEY_PEPPER": "fuzz-pepper",
            "KEYS_TABLE": "fuzz-keys",
            "SPEND_LOGS_TABLE": "fuzz-spend",
            "REDIS_URL": valkey.url,
            "CACHE_ENABLED": "false",
            "COMPRESSION_ENABLED": "false",
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_REGION": "us-east-1",
            "MAX_REQUEST_BYTES": "1048576",
            "GATEWAY_CONFIG": str(config),
        }
        for base_var, suffix, key_var in FAKE_WIRING.values():
            settings[base_var] = fake.url + suffix
            settings[key_var] = "fake-key"
        for name, value in settings.items():
            env.setenv(name, value)
        for name in ("DYNAMODB_ENDPOINT_URL", "TENANT_CREDENTIALS_KMS_KEY_ID"):
            env.delenv(name, raising=False)
        client = boto3.client("dynamodb", region_name="us-east-1")
        names = {"KeysTable": "fuzz-keys", "SpendLogsTable": "fuzz-spend"}
        create_tables_from_template(client, load_template(TEMPLATE), names)
        clear_layer_caches()
        from completion_api.app import app as completion_app
        from fastapi.testclient import TestClient
        from keys_api.app import app as keys_app

        with TestClient(keys_app) as admin:
            made = admin.post(
                "/key/generate",
                json={"team_id": "fuzz", "rpm_limit": 100000, "max_budget": 1000},
                headers={"Authorization": f"Bearer {MASTER}"},
            )
            assert made.status_code == 200, made.text
        try:
            yield Apps(completion_app, keys_app, made.json()["key"])
        finally:
            clear_layer_caches()


def assert_envelope(status: int, body: bytes, context: Any = None) -> None:
    """No 5xx caused by the input, and every refusal in the OpenAI error envelope."""
    import json

    assert status < 500, (status, body[:300], context)
    if status >= 400:
        error = json.loads(body)["error"]
        assert set(error) == {"message", "type", "param", "code"}, (error, context)
        assert isinstance(error["message"], str) and error["message"], context
