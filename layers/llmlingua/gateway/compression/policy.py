"""Per-request decisions: which profile, and whether compressing pays for itself.

Precedence for the profile: a key set to `off` disables compression for everything it sends; a
request's `x-compression-profile` header, then its `compression` body field, names a profile
(or `off`); a key set to a profile forces it; otherwise the config's default profile applies,
subject to the pays-for-itself rule. A profile named on the request or forced by the key is
explicit and overrides that rule.

Key setting (issue 3's key record, `ctx.principal.key`): a `compression` attribute or item, or
`metadata.compression`, one of `off`, `auto` (or absent), or a profile name (`default`, `rag`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gateway.compression.config import PROFILE_OFF, CompressionConfig, Profile
from gateway.errors import InvalidRequest

HEADER = "x-compression-profile"
BODY_FIELD = "compression"
KEY_FIELD = "compression"
_AUTO = "auto"


@dataclass(frozen=True)
class Choice:
    profile: Profile | None  # None: compression is off for this request
    explicit: bool  # named by the request or forced by the key: skips the price rule
    source: str  # header | body | key | config


def choose_profile(
    config: CompressionConfig,
    headers: Mapping[str, str],
    body_value: Any,
    key_setting: str | None,
) -> Choice:
    requested, source = _requested(headers, body_value)
    if key_setting == PROFILE_OFF:
        return Choice(None, True, "key")
    if requested == PROFILE_OFF:
        return Choice(None, True, source)
    if requested is not None:
        return Choice(_profile(config, requested, source), True, source)
    if key_setting not in (None, _AUTO):
        profile = config.profile(key_setting)
        if profile is not None:
            return Choice(profile, True, "key")
    return Choice(config.profile(config.default_profile), False, "config")


def key_setting(key: Any) -> str | None:
    """The key record's compression setting (see the module docstring), lower-cased."""
    if key is None:
        return None
    value = _field(key, KEY_FIELD)
    if value is None:
        value = _field(_field(key, "metadata") or {}, KEY_FIELD)
    if value is False:
        return PROFILE_OFF
    return str(value).strip().lower() if value not in (None, True) else None


def benefit_usd(
    config: CompressionConfig, tokens: int, rate: float, input_price: float
) -> tuple[float, float]:
    """(USD the saved input tokens would cost, USD the compression itself costs)."""
    return tokens * (1 - rate) * input_price, config.engine_cost.usd(tokens)


def pays_for_itself(
    config: CompressionConfig, tokens: int, rate: float, input_price: float | None
) -> bool:
    if input_price is None:
        return False
    saved, cost = benefit_usd(config, tokens, rate, input_price)
    return saved >= cost * config.min_benefit_ratio


def _requested(headers: Mapping[str, str], body_value: Any) -> tuple[str | None, str]:
    header = next((v for k, v in headers.items() if k.lower() == HEADER), None)
    if header is not None and header.strip():
        return header.strip().lower(), "header"
    if body_value is None:
        return None, "body"
    if body_value is False:
        return PROFILE_OFF, "body"
    if isinstance(body_value, str) and body_value.strip():
        return body_value.strip().lower(), "body"
    raise InvalidRequest(
        "`compression` must be a profile name (e.g. 'default', 'rag') or 'off'.",
        param=BODY_FIELD,
        code="invalid_compression_profile",
    )


def _profile(config: CompressionConfig, name: str, source: str) -> Profile:
    profile = config.profile(name)
    if profile is None:
        names = ", ".join([*sorted(config.profiles), PROFILE_OFF])
        raise InvalidRequest(
            f"Unknown compression profile '{name}'. Use one of: {names}.",
            param=HEADER if source == "header" else BODY_FIELD,
            code="invalid_compression_profile",
        )
    return profile


def _field(container: Any, name: str) -> Any:
    if isinstance(container, Mapping):
        return container.get(name)
    return getattr(container, name, None)
