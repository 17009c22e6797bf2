"""LocalDynamoDB (moto server subprocess) and tables built from a template dict."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from devstack.dynamodb import (
    DEFAULT_TABLE_NAMES,
    LocalDynamoDB,
    create_tables_from_template,
)
from devstack.ports import port_is_open


def _s(name: str) -> dict[str, str]:
    return {"AttributeName": name, "AttributeType": "S"}


def _key(hash_: str, range_: str | None = None) -> list[dict[str, str]]:
    schema = [{"AttributeName": hash_, "KeyType": "HASH"}]
    if range_:
        schema.append({"AttributeName": range_, "KeyType": "RANGE"})
    return schema


def _gsi(name: str, hash_: str, range_: str) -> dict[str, Any]:
    return {
        "IndexName": name,
        "KeySchema": _key(hash_, range_),
        "Projection": {"ProjectionType": "ALL"},
    }


# Shaped like template.yaml after loading (short-form tags as long-form dicts).
TEMPLATE: dict[str, Any] = {
    "Resources": {
        "KeysTable": {
            "Type": "AWS::DynamoDB::Table",
            "Properties": {
                "TableName": {"Fn::Sub": "${AWS::StackName}-keys"},
                "BillingMode": "PAY_PER_REQUEST",
                "AttributeDefinitions": [
                    _s("key_hash"),
                    _s("team_id"),
                    _s("user_id"),
                    _s("created_at"),
                ],
                "KeySchema": _key("key_hash"),
                "GlobalSecondaryIndexes": [
                    _gsi("team_id-index", "team_id", "created_at"),
                    _gsi("user_id-index", "user_id", "created_at"),
                ],
                "TimeToLiveSpecification": {"AttributeName": "ttl", "Enabled": True},
                "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
                "SSESpecification": {"SSEEnabled": True},
                "Tags": [{"Key": "stack", "Value": {"Ref": "AWS::StackName"}}],
            },
        },
        "SpendLogsTable": {
            "Type": "AWS::DynamoDB::Table",
            "Properties": {
                "TableName": {"Fn::Sub": "${AWS::StackName}-spend-logs"},
                "BillingMode": "PAY_PER_REQUEST",
                "AttributeDefinitions": [_s("key_hash"), _s("sk"), _s("team_id")],
                "KeySchema": _key("key_hash", "sk"),
                "GlobalSecondaryIndexes": [_gsi("team_id-index", "team_id", "sk")],
                "TimeToLiveSpecification": {"AttributeName": "ttl", "Enabled": True},
            },
        },
        "LegacyTable": {
            "Type": "AWS::Serverless::SimpleTable",
            "Properties": {"PrimaryKey": {"Name": "id", "Type": "Number"}},
        },
        "KeysFunction": {"Type": "AWS::Serverless::Function", "Properties": {}},
    }
}


@pytest.fixture(scope="module")
def db() -> Iterator[LocalDynamoDB]:
    with LocalDynamoDB().start() as server:
        yield server


@pytest.fixture
def client(db: LocalDynamoDB) -> Iterator[Any]:
    db.reset()
    yield db.client()


def test_endpoint_is_loopback(db: LocalDynamoDB) -> None:
    assert db.endpoint_url == f"http://127.0.0.1:{db.port}"
    assert db.client().meta.region_name == "us-east-1"


def test_tables_from_template(client: Any) -> None:
    created = create_tables_from_template(client, TEMPLATE, DEFAULT_TABLE_NAMES)
    assert created == ["gateway-keys", "gateway-spend-logs"]
    assert sorted(client.list_tables()["TableNames"]) == created

    keys = client.describe_table(TableName="gateway-keys")["Table"]
    assert keys["KeySchema"] == _key("key_hash")
    assert keys["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    gsis = {g["IndexName"]: g for g in keys["GlobalSecondaryIndexes"]}
    assert set(gsis) == {"team_id-index", "user_id-index"}
    assert gsis["user_id-index"]["KeySchema"] == _key("user_id", "created_at")
    assert gsis["user_id-index"]["Projection"] == {"ProjectionType": "ALL"}

    spend = client.describe_table(TableName="gateway-spend-logs")["Table"]
    assert spend["KeySchema"] == _key("key_hash", "sk")
    assert [g["IndexName"] for g in spend["GlobalSecondaryIndexes"]] == ["team_id-index"]

    for name in created:
        ttl = client.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
        assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "ttl"}
    backups = client.describe_continuous_backups(TableName="gateway-keys")
    pitr = backups["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]
    assert pitr["PointInTimeRecoveryStatus"] == "ENABLED"


def test_second_call_is_idempotent_and_keeps_data(client: Any) -> None:
    create_tables_from_template(client, TEMPLATE, DEFAULT_TABLE_NAMES)
    client.put_item(TableName="gateway-keys", Item={"key_hash": {"S": "h1"}})
    again = create_tables_from_template(client, TEMPLATE, DEFAULT_TABLE_NAMES)
    assert again == ["gateway-keys", "gateway-spend-logs"]
    assert client.get_item(TableName="gateway-keys", Key={"key_hash": {"S": "h1"}})["Item"]


def test_only_named_tables_and_simple_table(client: Any) -> None:
    assert create_tables_from_template(client, TEMPLATE, {"LegacyTable": "legacy"}) == ["legacy"]
    assert client.list_tables()["TableNames"] == ["legacy"]
    table = client.describe_table(TableName="legacy")["Table"]
    assert table["AttributeDefinitions"] == [{"AttributeName": "id", "AttributeType": "N"}]


def test_unknown_logical_id_is_an_error(client: Any) -> None:
    with pytest.raises(ValueError, match="NoSuchTable"):
        create_tables_from_template(client, TEMPLATE, {"NoSuchTable": "x"})


def test_stop_frees_port() -> None:
    server = LocalDynamoDB().start()
    port = server.port
    assert port_is_open(port)
    server.stop()
    assert not port_is_open(port)
    server.stop()
