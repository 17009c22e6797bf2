"""KeysTable adapter: the one place that reads and writes virtual keys in DynamoDB.

Items are keyed by the keyed hash of the secret. A second, tiny pointer item per key
(`key_hash = "token#<token_id>"`, `target_hash`) finds a key by its public id, so the hash is
never handed out. Reads are strongly consistent. The completion path reads through a Valkey copy
(record_cache.py) that the key service invalidates around every write made here.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from gateway.errors import DependencyUnavailable, InvalidRequest, KeyNotFound
from gateway.keys.codec import encode_field, item_to_record, record_to_item, to_attribute
from gateway.keys.model import KeyRecord

_POINTER = "token#"
_EXPIRED_KEY_RETENTION_S = 30 * 86400  # expired keys stay listable this long, then TTL deletes


class KeyStore:
    def __init__(self, client: Any, table: str) -> None:
        self._client = client
        self._table = table

    def get(self, key_hash: str) -> KeyRecord | None:
        """The key stored under `key_hash` (consistent read), or None."""
        item = self._get_item(key_hash)
        if item is None or "target_hash" in item:
            return None
        return item_to_record(item)

    def get_by_token_id(self, token_id: str) -> KeyRecord | None:
        pointer = self._get_item(_POINTER + token_id)
        if pointer is None:
            return None
        return self.get(pointer["target_hash"]["S"])

    def create(self, record: KeyRecord) -> None:
        """Store a new key and its pointer; refuses a secret or id that already exists."""
        self._transact(
            [
                _put(self._table, self._item(record), "attribute_not_exists(key_hash)"),
                _put(self._table, _pointer_item(record), "attribute_not_exists(key_hash)"),
            ],
            conflict=InvalidRequest("That key already exists.", param="key", code="key_exists"),
        )

    def update(self, key_hash: str, changes: Mapping[str, Any]) -> KeyRecord:
        """Set (or, for None, remove) the given attributes of an existing key."""
        names, values, sets, removes = {}, {}, [], []
        for index, (name, value) in enumerate(changes.items()):
            names[f"#a{index}"] = name
            if value is None:
                removes.append(f"#a{index}")
            else:
                values[f":v{index}"] = encode_field(name, value)
                sets.append(f"#a{index} = :v{index}")
        expression = " ".join(
            part
            for part in (
                "SET " + ", ".join(sets) if sets else "",
                "REMOVE " + ", ".join(removes) if removes else "",
            )
            if part
        )
        request: dict[str, Any] = {
            "TableName": self._table,
            "Key": {"key_hash": {"S": key_hash}},
            "UpdateExpression": expression,
            "ConditionExpression": "attribute_exists(key_hash)",
            "ExpressionAttributeNames": names,
            "ReturnValues": "ALL_NEW",
        }
        if values:
            request["ExpressionAttributeValues"] = values
        try:
            reply = self._client.update_item(**request)
        except ClientError as error:
            if _code(error) == "ConditionalCheckFailedException":
                raise KeyNotFound("No such key (it may have been deleted).") from error
            raise _unavailable(error) from error
        except BotoCoreError as error:
            raise _unavailable(error) from error
        return item_to_record(reply["Attributes"])

    def delete(self, record: KeyRecord) -> None:
        self._transact(
            [
                _delete(self._table, record.key_hash),
                _delete(self._table, _POINTER + record.token_id),
            ],
            conflict=KeyNotFound("No such key (it may have been deleted)."),
        )

    def replace(self, old: KeyRecord, new: KeyRecord) -> None:
        """Swap a key's secret (regenerate): the old hash stops working in the same write."""
        pointer_update = {
            "Update": {
                "TableName": self._table,
                "Key": {"key_hash": {"S": _POINTER + new.token_id}},
                "UpdateExpression": "SET target_hash = :h",
                "ConditionExpression": "attribute_exists(key_hash)",
                "ExpressionAttributeValues": {":h": {"S": new.key_hash}},
            }
        }
        self._transact(
            [
                _delete(self._table, old.key_hash),
                _put(self._table, self._item(new), "attribute_not_exists(key_hash)"),
                pointer_update,
            ],
            conflict=KeyNotFound("The key changed or was deleted meanwhile; try again."),
        )

    def scan(self, team_id: str | None = None, user_id: str | None = None) -> Iterator[KeyRecord]:
        """Every key of a team or user (oldest first), or every key in the table."""
        if team_id is not None or user_id is not None:
            attribute, value = ("team_id", team_id) if team_id is not None else ("user_id", user_id)
            request: dict[str, Any] = {
                "TableName": self._table,
                "IndexName": f"{attribute}-index",
                "KeyConditionExpression": "#a = :v",
                "ExpressionAttributeNames": {"#a": attribute},
                "ExpressionAttributeValues": {":v": {"S": value}},
            }
            operation = self._client.query
        else:
            request = {
                "TableName": self._table,
                "FilterExpression": "attribute_not_exists(target_hash)",
            }
            operation = self._client.scan
        while True:
            try:
                page = operation(**request)
            except (ClientError, BotoCoreError) as error:
                raise _unavailable(error) from error
            yield from (item_to_record(item) for item in page.get("Items", []))
            if not page.get("LastEvaluatedKey"):
                return
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    # -- helpers ------------------------------------------------------------------------
    def _item(self, record: KeyRecord) -> dict[str, Any]:
        item = record_to_item(record)
        if record.expires_at is not None:
            item["ttl"] = to_attribute(int(record.expires_at + _EXPIRED_KEY_RETENTION_S))
        return item

    def _get_item(self, key_hash: str) -> dict[str, Any] | None:
        try:
            reply = self._client.get_item(
                TableName=self._table, Key={"key_hash": {"S": key_hash}}, ConsistentRead=True
            )
        except (ClientError, BotoCoreError) as error:
            raise _unavailable(error) from error
        item: dict[str, Any] | None = reply.get("Item")
        return item

    def _transact(self, items: list[dict[str, Any]], conflict: Exception) -> None:
        try:
            self._client.transact_write_items(TransactItems=items)
        except ClientError as error:
            reasons = error.response.get("CancellationReasons") or []
            if any(r.get("Code") == "ConditionalCheckFailed" for r in reasons):
                raise conflict from error
            raise _unavailable(error) from error
        except BotoCoreError as error:
            raise _unavailable(error) from error


def expiry_ttl_changes(expires_at: float | None) -> dict[str, Any]:
    """The `ttl` attribute that goes with a new expiry (None removes it)."""
    ttl = None if expires_at is None else int(expires_at + _EXPIRED_KEY_RETENTION_S)
    return {"ttl": ttl}


def _pointer_item(record: KeyRecord) -> dict[str, Any]:
    return {
        "key_hash": {"S": _POINTER + record.token_id},
        "target_hash": {"S": record.key_hash},
    }


def _put(table: str, item: dict[str, Any], condition: str) -> dict[str, Any]:
    return {"Put": {"TableName": table, "Item": item, "ConditionExpression": condition}}


def _delete(table: str, key_hash: str) -> dict[str, Any]:
    return {
        "Delete": {
            "TableName": table,
            "Key": {"key_hash": {"S": key_hash}},
            "ConditionExpression": "attribute_exists(key_hash)",
        }
    }


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _unavailable(error: Exception) -> DependencyUnavailable:
    return DependencyUnavailable("The key store is unavailable; try again shortly.")
