"""SpendLogsTable reads for /spend/logs: by key (all its hashes, across regenerations) or by team,
in a time range, oldest first, a page at a time. Items past their TTL are skipped here, since
DynamoDB (and moto) may keep them for a while after they expire.

A page token carries only a position and the last sort key read (`<time>#<request id>`), never
a DynamoDB cursor: those contain the stored key hash, which is never handed out.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from collections.abc import Callable, Sequence
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from gateway.errors import DependencyUnavailable, InvalidRequest
from gateway.keys.codec import from_attribute

Page = tuple[list[dict[str, Any]], str | None]


class SpendLogReader:
    def __init__(self, client: Any, table: str, clock: Callable[[], float] = time.time) -> None:
        self._client = client
        self._table = table
        self._clock = clock

    def for_key(
        self, key_hashes: Sequence[str], start: str, end: str, limit: int, page_token: str | None
    ) -> Page:
        """Logs of one key; `key_hashes` are its current and previous hashes."""
        position, after = _decode(page_token)
        items: list[dict[str, Any]] = []
        while position < len(key_hashes) and len(items) < limit:
            request = self._request(
                "key_hash", key_hashes[position], _from(start, after), end, limit - len(items)
            )
            page, after = self._query(request)
            items += page
            if after is None:
                position += 1
        return items, _encode(position, after) if position < len(key_hashes) else None

    def for_team(
        self, team_id: str, start: str, end: str, limit: int, page_token: str | None
    ) -> Page:
        _, after = _decode(page_token)
        request = self._request("team_id", team_id, _from(start, after), end, limit)
        request["IndexName"] = "team_id-index"
        items, after = self._query(request)
        return items, _encode(0, after) if after is not None else None

    def _request(
        self, attribute: str, value: str, start: str, end: str, limit: int
    ) -> dict[str, Any]:
        return {
            "TableName": self._table,
            "KeyConditionExpression": "#p = :p AND sk BETWEEN :start AND :end",
            "ExpressionAttributeNames": {"#p": attribute},
            "ExpressionAttributeValues": {
                ":p": {"S": value},
                ":start": {"S": start},
                ":end": {"S": end},
            },
            "Limit": limit,
        }

    def _query(self, request: dict[str, Any]) -> Page:
        try:
            reply = self._client.query(**request)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ValidationException":
                raise InvalidRequest("page_token is not valid.", param="page_token") from error
            raise DependencyUnavailable("The spend log store is unavailable.") from error
        except BotoCoreError as error:
            raise DependencyUnavailable("The spend log store is unavailable.") from error
        now = self._clock()
        items = [
            {name: from_attribute(value) for name, value in item.items()}
            for item in reply.get("Items", [])
        ]
        live = [item for item in items if "ttl" not in item or float(item["ttl"]) > now]
        last = reply.get("LastEvaluatedKey")
        return live, None if last is None else str(last["sk"]["S"])


def _from(start: str, after: str | None) -> str:
    # " " is the smallest printable character: every sort key after `after` is >= after + " ".
    return start if after is None else max(start, after + " ")


def _encode(position: int, after: str | None) -> str:
    raw = json.dumps({"i": position, "a": after}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(token: str | None) -> tuple[int, str | None]:
    if not token:
        return 0, None
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        position, after = int(data["i"]), data["a"]
    except (binascii.Error, ValueError, KeyError, TypeError):
        raise InvalidRequest("page_token is not valid.", param="page_token") from None
    if position < 0 or not (after is None or isinstance(after, str)):
        raise InvalidRequest("page_token is not valid.", param="page_token")
    return position, after
