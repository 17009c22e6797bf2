"""GET /spend/logs: one key's (or one team's) spend logs in a time range, oldest first.

The body is a JSON list, as in LiteLLM; `x-next-page-token` carries the cursor to the next page.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse
from gateway.errors import InvalidRequest
from gateway.keys.durations import iso

from keys_api.deps import Admin, Drained, Keys, SpendLogs, only_query

router = APIRouter(tags=["spend"])
Text = Annotated[str | None, Query(min_length=1, max_length=256)]
_QUERY = ("api_key", "key", "team_id", "start_date", "end_date", "limit", "page_token")


@router.get("/spend/logs", dependencies=[Depends(only_query(*_QUERY))])
def spend_logs(
    _: Admin,
    __: Drained,
    keys: Keys,
    logs: SpendLogs,
    api_key: Text = None,
    key: Text = None,
    team_id: Text = None,
    start_date: Text = None,
    end_date: Text = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    page_token: Annotated[str | None, Query(max_length=2048)] = None,
) -> JSONResponse:
    identifier = api_key or key
    if (identifier is None) == (team_id is None):
        raise InvalidRequest("Pass exactly one of api_key (or key) and team_id.", param="api_key")
    start = _moment(start_date, "start_date", end=False) or "0000"
    end = _moment(end_date, "end_date", end=True) or "9999"
    if identifier is not None:
        record = keys.resolve(identifier)
        hashes = [record.key_hash, *record.previous_key_hashes]
        items, next_token = logs.for_key(hashes, start, end, limit, page_token)
    else:
        items, next_token = logs.for_team(str(team_id), start, end, limit, page_token)
    headers = {"x-next-page-token": next_token} if next_token else {}
    return JSONResponse([_entry(item) for item in items], headers=headers)


def _moment(value: str | None, name: str, end: bool) -> str | None:
    """A date (`2026-11-28`, whole day) or an ISO-8601 time, as a sort-key prefix."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidRequest(f"{name} is not an ISO-8601 date or time.", param=name) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    if end and len(value) == 10:  # a bare date ends at the end of that day
        moment += timedelta(days=1)
    return iso(moment.timestamp())


def _entry(item: dict[str, Any]) -> dict[str, Any]:
    """A spend log in LiteLLM's field names; the stored key hash is never shown."""
    return {
        "request_id": item.get("request_id"),
        "call_type": item.get("call_type"),
        "api_key": item.get("token_id"),
        "key_alias": item.get("key_alias"),
        "spend": float(item.get("spend", 0)),
        "prompt_tokens": int(item.get("prompt_tokens", 0)),
        "completion_tokens": int(item.get("completion_tokens", 0)),
        "total_tokens": int(item.get("total_tokens", 0)),
        "startTime": item.get("start_time"),
        "endTime": item.get("end_time"),
        "model": item.get("model"),
        "custom_llm_provider": item.get("provider"),
        "user": item.get("user_id"),
        "team_id": item.get("team_id"),
        "cache_hit": bool(item.get("cache_hit", False)),
        "cache_status": item.get("cache_status"),
        "compression": {k: int(v) for k, v in (item.get("compression") or {}).items()},
        "latency_ms": int(item.get("latency_ms", 0)),
    }
