"""DynamoDB faults on the spend write: throttling and a lost acknowledgement are retried, and
spend is counted exactly once (the transaction's conditional Put on the request id).

The faults come from a wrapper around the real boto3 client talking to moto: the write either
fails with the error DynamoDB sends (ThrottlingException) or really happens and then the
response is lost (a read timeout), as on a dropped connection.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from botocore.exceptions import ClientError, ReadTimeoutError
from gateway.keys.model import KeyRecord
from gateway.spend import SpendEntry, SpendLedger

from tests.unit.keys_support import Tables

pytest_plugins = ["tests.unit.keys_support"]

NOW = 1_800_000_000.0
KEY = KeyRecord(
    key_hash="f" * 64, token_id="e" * 32, key_name="sk-...wxyz", created_at="c", updated_at="u"
)


class _DynamoDBFaults:
    """The real client, with the first `throttled` writes throttled and the next `lost_acks`
    writes applied but their responses lost."""

    def __init__(self, client: Any, throttled: int = 0, lost_acks: int = 0) -> None:
        self._client, self.throttled, self.lost_acks, self.writes = client, throttled, lost_acks, 0

    def transact_write_items(self, **request: Any) -> Any:
        self.writes += 1
        if self.throttled:
            self.throttled -= 1
            error = {"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}
            raise ClientError(error, "TransactWriteItems")
        response = self._client.transact_write_items(**request)
        if self.lost_acks:
            self.lost_acks -= 1
            raise ReadTimeoutError(endpoint_url="http://dynamodb")
        return response

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


def _entry(request_id: str) -> SpendEntry:
    return SpendEntry(
        key_hash=KEY.key_hash, token_id=KEY.token_id, request_id=request_id,
        started_epoch=NOW - 1, ended_epoch=NOW, model="gpt-4o", provider="openai",
        call_type="chat", cost=Decimal("0.0125"), prompt_tokens=1000, completion_tokens=1000,
    )  # fmt: skip


def _ledger(client: Any, tables: Tables) -> SpendLedger:
    return SpendLedger(client, tables.keys, tables.spend_logs, sleep=lambda _: None)


def _spend_logs(tables: Tables) -> list[dict[str, Any]]:
    query = tables.client.query(
        TableName=tables.spend_logs,
        KeyConditionExpression="key_hash = :k",
        ExpressionAttributeValues={":k": {"S": KEY.key_hash}},
    )
    return list(query["Items"])


def test_throttled_spend_writes_are_retried_and_counted_once(tables: Tables) -> None:
    tables.store().create(KEY)
    faults = _DynamoDBFaults(tables.client, throttled=3)
    assert _ledger(faults, tables).record(_entry("req-throttled"), None) == "recorded"
    assert faults.writes == 4
    assert tables.store().get(KEY.key_hash).spend == Decimal("0.0125")  # type: ignore[union-attr]
    assert len(_spend_logs(tables)) == 1


def test_a_write_whose_acknowledgement_is_lost_is_not_counted_twice(tables: Tables) -> None:
    # Given a write that DynamoDB applies but whose response never arrives
    tables.store().create(KEY)
    faults = _DynamoDBFaults(tables.client, lost_acks=1)
    # When the ledger retries it
    outcome = _ledger(faults, tables).record(_entry("req-lost-ack"), None)
    # Then the retry finds its own log item and adds nothing
    assert outcome == "duplicate" and faults.writes == 2
    assert tables.store().get(KEY.key_hash).spend == Decimal("0.0125")  # type: ignore[union-attr]
    assert len(_spend_logs(tables)) == 1
