"""Durations, hashing and the stored key record: pure logic, no outside systems."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from gateway.keys.codec import item_to_record, record_to_item
from gateway.keys.durations import parse_duration
from gateway.keys.hashing import hash_key, key_name, new_raw_key
from gateway.keys.model import KeyRecord

JAN_31 = datetime(2026, 1, 31, 12, tzinfo=UTC).timestamp()


def _record(**fields: Any) -> KeyRecord:
    base = KeyRecord(
        key_hash="h" * 64, token_id="t" * 32, key_name="sk-...abcd", created_at="c", updated_at="u"
    )
    return replace(base, **fields)


@pytest.mark.parametrize(
    ("text", "seconds"), [("30s", 30), ("30m", 1800), ("30h", 108_000), ("30d", 2_592_000)]
)
def test_fixed_durations(text: str, seconds: int) -> None:
    assert parse_duration(text).after(1000.0) == 1000.0 + seconds


@pytest.mark.parametrize("text", ["", "30", "0s", "-1d", "1.5h", "30w", "1 d", "9999999d", "1mo1"])
def test_malformed_durations_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


def test_months_are_calendar_months_clamped_to_the_month_end() -> None:
    end_of_february = parse_duration("1mo").after(JAN_31)
    assert datetime.fromtimestamp(end_of_february, UTC) == datetime(2026, 2, 28, 12, tzinfo=UTC)


def test_next_reset_skips_every_window_that_passed_unused() -> None:
    # Given a daily window that ended 3.5 days ago, the next boundary is half a day ahead
    day = parse_duration("1d")
    assert day.next_reset(anchor=0.0, now=3.5 * 86400) == 4 * 86400
    assert day.next_reset(anchor=0.0, now=4 * 86400) == 5 * 86400


def test_keys_are_random_and_hashed_with_the_pepper() -> None:
    first, second = new_raw_key(), new_raw_key()
    assert first != second and first.startswith("sk-") and len(first) > 40
    assert hash_key(first, "a") == hash_key(first, "a")
    assert hash_key(first, "a") != hash_key(first, "b")
    assert len(hash_key(first, "a")) == 64
    assert key_name("sk-0123456789abcd") == "sk-...abcd"


def test_window_spend_resets_lazily_once_the_window_is_over() -> None:
    record = _record(spend=Decimal("2.5"), budget_duration="1d", budget_reset_at=100.0)
    assert record.window_spend(99.0) == Decimal("2.5")
    assert record.window_spend(100.0) == 0
    assert record.next_budget_reset(150.0) == 100.0 + 86400


def test_model_access_resolves_through_listed_aliases() -> None:
    record = _record(models=("gpt-4o-mini", "fast"), aliases={"fast": "claude-sonnet-4-5"})
    assert record.allows_model("gpt-4o-mini")
    assert record.allows_model("claude-sonnet-4-5")  # listed through its alias
    assert not record.allows_model("gpt-4o")
    assert _record().allows_model("anything")  # no list: every model


def test_public_view_never_shows_the_hash_or_the_credentials() -> None:
    record = _record(credentials=b"sealed", credential_providers=("openai",), max_budget=Decimal(5))
    view = record.public_view(0.0)
    assert "h" * 64 not in str(view) and "sealed" not in str(view)
    assert view["provider_credentials_set"] == ["openai"]
    assert view["budget_remaining"] == 5.0


def test_codec_round_trips_every_field() -> None:
    record = _record(
        key_alias="a",
        team_id="t1",
        models=("gpt-4o",),
        aliases={"x": "gpt-4o"},
        max_budget=Decimal("0.1"),
        spend=Decimal("0.00000105"),
        model_spend={"gpt-4o": Decimal("0.00000105")},
        rpm_limit=5,
        metadata={"nested": {"list": [1, 2.5, None]}},
        tags=("a",),
        blocked=True,
        expires_at=123.5,
        credentials=b"\x00\x01",
        credential_providers=("groq",),
        previous_key_hashes=("old",),
    )
    item = record_to_item(record)
    assert "user_id" not in item  # absent, not null: the user_id index stays sparse
    assert item_to_record(item) == record
