"""Virtual keys through three gateway processes (three Lambda instances) sharing one Valkey and
one moto server: exact spend and RPM under concurrency, parallel limits, revocation on every
instance, and tenant credentials sealed with KMS (moto) and used for the tenant's calls.

The moto server serialises requests (devstack/dynamodb.py): moto's DynamoDB backend
loses concurrent updates, which DynamoDB itself never does.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
import redis
from gateway.config import load_config
from gateway.keys.hashing import hash_key
from gateway.pricing import PriceBook
from gateway.spend import SpendLedger
from gateway.spend_flush import SpendFlusher

from devstack.cfn import load_template
from devstack.dynamodb import LocalDynamoDB, create_tables_from_template
from devstack.fake_providers import FakeProviderServer
from devstack.stack import ROOT, TEMPLATE, LocalStack
from tests.integration.conftest import MASTER_KEY
from tests.integration.stack import GatewayProcess, write_test_config

ADMIN = {"Authorization": f"Bearer {MASTER_KEY}"}
FLEET_STREAM = "gw:spend:stream:keys-fleet"
CHAT = "/v1/chat/completions"


class RecordingProvider:
    """An OpenAI-compatible endpoint that remembers which API key each call carried."""

    def __init__(self) -> None:
        self.keys: list[str | None] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = json.loads(self.rfile.read(int(self.headers.get("content-length") or 0)))
                outer.keys.append(self.headers.get("authorization"))
                reply = json.dumps(
                    {
                        "id": "chatcmpl-recorded",
                        "object": "chat.completion",
                        "created": 1,
                        "model": body["model"],
                        "choices": [
                            {
                                "index": 0,
                                "message": {"role": "assistant", "content": "recorded"},
                                "finish_reason": "stop",
                            }
                        ],
                        "usage": {"prompt_tokens": 7, "completion_tokens": 2, "total_tokens": 9},
                    }
                ).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args: Any) -> None:
                return None

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self._server.shutdown()


@pytest.fixture(scope="module")
def recorder() -> Iterator[RecordingProvider]:
    server = RecordingProvider()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def moto(stack: LocalStack) -> Iterator[LocalDynamoDB]:
    """A DynamoDB of the fleet's own, so its spend totals are not shared with other tests."""
    names = {"KeysTable": stack.env["KEYS_TABLE"], "SpendLogsTable": stack.env["SPEND_LOGS_TABLE"]}
    with LocalDynamoDB() as server:
        create_tables_from_template(server.client(), load_template(TEMPLATE), names)
        yield server


@pytest.fixture(scope="module")
def kms_key(moto: LocalDynamoDB) -> str:
    created = moto.client("kms").create_key(Description="tenant credentials (test)")
    return str(created["KeyMetadata"]["KeyId"])


@pytest.fixture(scope="module")
def fleet(
    stack: LocalStack,
    moto: LocalDynamoDB,
    recorder: RecordingProvider,
    kms_key: str,
    tmp_path_factory: Any,
) -> Iterator[list[GatewayProcess]]:
    workdir = tmp_path_factory.mktemp("keys-fleet")
    byo = {
        "model_name": "byo-model",
        "litellm_params": {
            "model": "openai/gpt-4o-mini",
            "api_key": "os.environ/OPENAI_API_KEY",
            "api_base": recorder.url + "/v1",
        },
    }
    env = {
        **stack.env,  # the stack's Valkey and fake providers
        "GATEWAY_CONFIG": str(write_test_config(workdir / "config.yaml", [byo])),
        "DYNAMODB_ENDPOINT_URL": moto.endpoint_url,
        "TENANT_CREDENTIALS_KMS_KEY_ID": kms_key,
        "KMS_ENDPOINT_URL": moto.endpoint_url,
        # Its own spend stream: this fleet's DynamoDB is not the shared gateway's (issue 7)
        "SPEND_STREAM": FLEET_STREAM,
    }
    processes = [GatewayProcess(env, workdir / f"gateway-{n}.log") for n in range(3)]
    warm = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "warm up"}]}

    def start(process: GatewayProcess) -> int:  # and import litellm now, not inside a burst
        process.start()
        return httpx.post(process.url + CHAT, json=warm, headers=ADMIN, timeout=180).status_code

    with ThreadPoolExecutor(3) as pool:
        assert list(pool.map(start, processes)) == [200, 200, 200]
    yield processes
    for process in processes:
        process.stop()
    for process in processes:
        assert "sk-" + "tenant" not in process.logs()  # no tenant secret in any log


def _generate(process: GatewayProcess, **settings: Any) -> dict[str, Any]:
    response = httpx.post(process.url + "/key/generate", json=settings, headers=ADMIN, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


def _chat(process: GatewayProcess, key: str, model: str = "gpt-4o-mini", text: str = "hi") -> Any:
    body = {"model": model, "messages": [{"role": "user", "content": text}]}
    auth = {"Authorization": f"Bearer {key}"}
    return httpx.post(process.url + CHAT, json=body, headers=auth, timeout=60)


def test_concurrent_requests_on_three_instances_spend_exactly_and_hold_rpm(
    fleet: list[GatewayProcess], stack: LocalStack, moto: LocalDynamoDB
) -> None:
    # Given a key limited to 50 requests per minute
    key = _generate(fleet[0], rpm_limit=50, team_id="fleet-team")
    # When 70 completions arrive at once, spread over three instances
    with ThreadPoolExecutor(70) as pool:
        replies = list(
            pool.map(
                lambda n: _chat(fleet[n % 3], key["key"], text=f"request {n} " + "x" * (n % 7)),
                range(70),
            )
        )
    # Then exactly 50 were served and 20 refused with Retry-After
    statuses = [r.status_code for r in replies]
    assert statuses.count(200) == 50 and statuses.count(429) == 20
    for refused in (r for r in replies if r.status_code == 429):
        assert refused.json()["error"]["code"] == "rate_limit_exceeded"
        assert int(refused.headers["retry-after"]) >= 1
        assert refused.headers["x-ratelimit-remaining-requests"] == "0"
    # And once the queued spend is flushed (the scheduled flusher's job, done here now), the
    # key's spend equals the sum of its 50 spend logs, exactly (DynamoDB decimals)
    key_hash = hash_key(key["key"], stack.env["KEY_PEPPER"])
    client = moto.client("dynamodb")
    ledger = SpendLedger(client, stack.env["KEYS_TABLE"], stack.env["SPEND_LOGS_TABLE"])
    valkey = redis.Redis.from_url(stack.env["REDIS_URL"])
    assert SpendFlusher(valkey, ledger, FLEET_STREAM).drain(claim_idle_ms=0).failed == 0
    assert valkey.xlen(FLEET_STREAM) == 0
    stored = client.get_item(TableName=stack.env["KEYS_TABLE"], Key={"key_hash": {"S": key_hash}})
    logs = client.query(
        TableName=stack.env["SPEND_LOGS_TABLE"],
        KeyConditionExpression="key_hash = :h",
        ExpressionAttributeValues={":h": {"S": key_hash}},
    )["Items"]
    assert len(logs) == 50
    logged = sum(Decimal(item["spend"]["N"]) for item in logs)
    assert Decimal(stored["Item"]["spend"]["N"]) == logged > 0
    # And each log's cost is the price of the usage the client was told about (a cache hit,
    # should the cache stage answer one of these, costs nothing)
    prices = PriceBook(load_config(ROOT / "config" / "litellm_config.yaml"))
    served = [
        r.json()["usage"]
        for r in replies
        if r.status_code == 200 and "HIT" not in r.headers.get("x-cache-status", "").upper()
    ]
    expected = sum(
        prices.cost("gpt-4o-mini", u["prompt_tokens"], u["completion_tokens"]) for u in served
    )
    assert logged == expected


def test_parallel_limit_holds_across_instances(
    fleet: list[GatewayProcess], stack: LocalStack
) -> None:
    key = _generate(fleet[0], max_parallel_requests=2)
    fake: FakeProviderServer = stack.fakes["openai"]
    fake.inject_fault(mode="hang", delay_s=4, times=2)  # the admitted calls stay in flight
    before = fake.calls()["count"]
    with ThreadPoolExecutor(2) as pool:
        held = [pool.submit(_chat, fleet[n], key["key"]) for n in range(2)]
        _wait_for(lambda: fake.calls()["count"] >= before + 2)  # both admitted, at the provider
        refused = [_chat(fleet[n % 3], key["key"]) for n in range(4)]
        assert [r.status_code for r in refused] == [429, 429, 429, 429]
        assert {r.headers["retry-after"] for r in refused} == {"1"}
        assert [future.result().status_code for future in held] == [200, 200]
    assert _chat(fleet[1], key["key"]).status_code == 200  # slots released after settling


def _wait_for(condition: Any, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.02)


def test_delete_and_block_take_effect_on_the_next_request_everywhere(
    fleet: list[GatewayProcess],
) -> None:
    key = _generate(fleet[0])
    assert all(_chat(process, key["key"]).status_code == 200 for process in fleet)
    # Blocked through instance 0: the very next call on instances 1 and 2 is refused
    httpx.post(fleet[0].url + "/key/block", json={"key": key["token_id"]}, headers=ADMIN)
    assert [_chat(p, key["key"]).status_code for p in fleet[1:]] == [403, 403]
    httpx.post(fleet[2].url + "/key/unblock", json={"key": key["token_id"]}, headers=ADMIN)
    assert _chat(fleet[1], key["key"]).status_code == 200
    # Deleted through instance 1: refused at once on every instance
    deleted = httpx.post(fleet[1].url + "/key/delete", json={"keys": [key["key"]]}, headers=ADMIN)
    assert deleted.status_code == 200
    refused = [_chat(p, key["key"]) for p in fleet]
    assert [r.status_code for r in refused] == [401, 401, 401]
    assert refused[0].json()["error"]["code"] == "invalid_api_key"


def test_tenant_credentials_are_sealed_with_kms_and_used_for_its_calls(
    fleet: list[GatewayProcess], stack: LocalStack, moto: LocalDynamoDB, recorder: RecordingProvider
) -> None:
    tenant_secret = "sk-" + "tenant-own-openai-key-0001"
    own = _generate(fleet[0], provider_credentials={"openai": tenant_secret})
    plain = _generate(fleet[0])
    assert tenant_secret not in json.dumps(own)
    assert _chat(fleet[1], own["key"], model="byo-model").status_code == 200
    assert _chat(fleet[2], plain["key"], model="byo-model").status_code == 200
    assert recorder.keys[-2:] == [f"Bearer {tenant_secret}", "Bearer fake-openai-key"]
    # Stored as a KMS ciphertext bound to the key's token id
    key_hash = hash_key(own["key"], stack.env["KEY_PEPPER"])
    item = moto.client("dynamodb").get_item(
        TableName=stack.env["KEYS_TABLE"], Key={"key_hash": {"S": key_hash}}
    )["Item"]
    blob = item["credentials"]["B"]
    assert tenant_secret.encode() not in blob
    opened = moto.client("kms").decrypt(
        CiphertextBlob=blob, EncryptionContext={"gateway:token_id": own["token_id"]}
    )
    assert json.loads(opened["Plaintext"]) == {"openai": tenant_secret}
