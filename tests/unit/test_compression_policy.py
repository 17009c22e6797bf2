"""Profile selection (header, body, key) and the pays-for-itself rule."""

from __future__ import annotations

import pytest
from gateway.compression.config import CompressionConfig, EngineCost
from gateway.compression.policy import choose_profile, key_setting, pays_for_itself
from gateway.errors import InvalidRequest

CONFIG = CompressionConfig()


def test_no_choice_uses_the_default_profile_subject_to_the_price_rule() -> None:
    choice = choose_profile(CONFIG, {}, None, None)
    assert choice.profile is not None and choice.profile.name == "default"
    assert choice.explicit is False


def test_header_beats_body_and_is_explicit() -> None:
    choice = choose_profile(CONFIG, {"X-Compression-Profile": "RAG"}, "default", None)
    assert choice.profile is not None and choice.profile.rate == 0.33
    assert (choice.explicit, choice.source) == (True, "header")


@pytest.mark.parametrize("value", ["off", False])
def test_body_can_turn_compression_off(value: object) -> None:
    assert choose_profile(CONFIG, {}, value, None).profile is None


def test_key_off_wins_over_a_profile_named_by_the_request() -> None:
    choice = choose_profile(CONFIG, {"x-compression-profile": "rag"}, None, "off")
    assert (choice.profile, choice.source) == (None, "key")


def test_key_can_force_a_profile_but_the_request_can_still_opt_out() -> None:
    forced = choose_profile(CONFIG, {}, None, "rag")
    assert forced.profile is not None and forced.profile.name == "rag" and forced.explicit
    assert choose_profile(CONFIG, {"x-compression-profile": "off"}, None, "rag").profile is None


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ({"compression": "off"}, "off"),
        ({"metadata": {"compression": "RAG"}}, "rag"),
        ({"metadata": {"compression": False}}, "off"),
        ({"metadata": {}}, None),
        (None, None),
    ],
)
def test_key_setting_is_read_from_the_record_or_its_metadata(key: object, expected: object) -> None:
    assert key_setting(key) == expected


@pytest.mark.parametrize(("header", "body"), [("huge", None), (None, "huge"), (None, 7)])
def test_unknown_profiles_are_a_400_not_a_crash(header: str | None, body: object) -> None:
    headers = {"x-compression-profile": header} if header else {}
    with pytest.raises(InvalidRequest) as caught:
        choose_profile(CONFIG, headers, body, None)
    assert caught.value.status_code == 400
    assert caught.value.code == "invalid_compression_profile"


def test_compression_pays_on_expensive_models_and_not_on_cheap_ones() -> None:
    config = CompressionConfig(engine_cost=EngineCost(seconds_per_1k_tokens=2.0, memory_gb=3.5))
    assert pays_for_itself(config, 4000, 0.5, 15e-6)  # claude-opus class
    assert pays_for_itself(config, 4000, 0.5, 2.5e-6)  # gpt-4o class
    assert not pays_for_itself(config, 4000, 0.5, 0.15e-6)  # gpt-4o-mini class
    assert not pays_for_itself(config, 4000, 0.5, None)  # unknown price: do not guess
