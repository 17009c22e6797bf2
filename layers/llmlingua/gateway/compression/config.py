"""The `compression:` section of the gateway config file, with environment overrides.

LiteLLM reads only the top-level keys it knows (`model_list`, `router_settings`, ...) and ignores
others, so the section can live in the same LiteLLM-format file. Environment variables (through
Settings) override the file: LLMLINGUA_MODEL_DIR, COMPRESSION_ENGINE, COMPRESSION_ENGINE_URL,
COMPRESSION_FUNCTION_NAME, COMPRESSION_ENABLED.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import yaml

EngineKind = Literal["auto", "inprocess", "http", "lambda", "off"]
ENGINE_KINDS: tuple[str, ...] = ("auto", "inprocess", "http", "lambda", "off")
PROFILE_OFF = "off"
# Lambda arm64 price per GB-second (us-east-1, first 7.5 B GB-s/month).
LAMBDA_ARM64_USD_PER_GB_SECOND = 0.0000133334


class CompressionConfigError(ValueError):
    """The `compression:` section is malformed; raised at cold start, never per request."""


@dataclass(frozen=True)
class Profile:
    name: str
    rate: float  # the share of tokens to keep (0.5 keeps about half)


@dataclass(frozen=True)
class EngineCost:
    """What compressing costs, for the price and time rules (measured: bench/compression).

    Defaults: the ML function on Lambda arm64 with 2 vCPUs (3,538 MB). For a GPU service, set
    seconds_per_1k_tokens to its latency and memory_gb x usd_per_gb_second to its price per second.
    """

    seconds_per_1k_tokens: float = 2.0
    memory_gb: float = 3.455
    usd_per_gb_second: float = LAMBDA_ARM64_USD_PER_GB_SECOND
    usd_per_call: float = 0.0000002  # Lambda's per-request price

    def seconds(self, tokens: int) -> float:
        return tokens / 1000 * self.seconds_per_1k_tokens

    def usd(self, tokens: int) -> float:
        return self.seconds(tokens) * self.memory_gb * self.usd_per_gb_second + self.usd_per_call


@dataclass(frozen=True)
class CompressionConfig:
    enabled: bool = True
    min_tokens: int = 500
    profiles: Mapping[str, Profile] = field(
        default_factory=lambda: {"default": Profile("default", 0.5), "rag": Profile("rag", 0.33)}
    )
    default_profile: str = "default"
    model_dir: Path | None = None
    force_tokens: tuple[str, ...] = ("\n", "?")
    compressible_roles: frozenset[str] = frozenset({"system", "user", "tool"})
    min_segment_tokens: int = 40  # shorter paragraphs (headings, instructions) stay verbatim
    question_max_tokens: int = 200  # a final paragraph up to this size is kept whole
    time_budget_s: float = 5.0
    engine: EngineKind = "auto"
    engine_url: str | None = None
    function_name: str | None = None
    pays_for_itself: bool = True
    min_benefit_ratio: float = 1.0  # value of the tokens saved must be >= ratio x engine cost
    engine_cost: EngineCost = field(default_factory=EngineCost)

    def profile(self, name: str) -> Profile | None:
        return self.profiles.get(name)

    def with_env(self, environ: Mapping[str, Any]) -> CompressionConfig:
        """Apply the Settings overrides (None means: keep the file's value)."""
        changes: dict[str, Any] = {}
        if environ.get("compression_enabled") is not None:
            changes["enabled"] = bool(environ["compression_enabled"])
        if environ.get("llmlingua_model_dir"):
            changes["model_dir"] = Path(environ["llmlingua_model_dir"])
        if environ.get("compression_engine"):
            changes["engine"] = _engine_kind(environ["compression_engine"])
        if environ.get("compression_engine_url"):
            changes["engine_url"] = str(environ["compression_engine_url"])
        if environ.get("compression_function_name"):
            changes["function_name"] = str(environ["compression_function_name"])
        return replace(self, **changes)


def parse_compression(raw: Mapping[str, Any] | None) -> CompressionConfig:
    """The typed config from the raw `compression:` mapping (absent section: the defaults)."""
    if raw is None:
        return CompressionConfig()
    if not isinstance(raw, Mapping):
        raise CompressionConfigError("`compression` must be a mapping")
    base = CompressionConfig()
    profiles = dict(base.profiles)
    for name, spec in (raw.get("profiles") or {}).items():
        rate = spec.get("rate") if isinstance(spec, Mapping) else None
        if name == PROFILE_OFF or not isinstance(rate, int | float) or not 0 < rate < 1:
            raise CompressionConfigError(f"compression.profiles.{name} needs 0 < rate < 1")
        profiles[str(name)] = Profile(str(name), float(rate))
    default_profile = str(raw.get("default_profile", base.default_profile))
    if default_profile not in profiles:
        raise CompressionConfigError(f"compression.default_profile {default_profile!r} unknown")
    cost_raw = raw.get("engine_cost") or {}
    cost = EngineCost(**{k: float(v) for k, v in cost_raw.items() if k in _COST_FIELDS})
    engine_raw = raw.get("engine") or {}
    model_dir = raw.get("model_dir")
    return CompressionConfig(
        enabled=bool(raw.get("enabled", base.enabled)),
        min_tokens=_positive_int(raw, "min_tokens", base.min_tokens),
        profiles=profiles,
        default_profile=default_profile,
        model_dir=Path(model_dir) if model_dir else None,
        force_tokens=tuple(str(t) for t in raw.get("force_tokens", base.force_tokens)),
        compressible_roles=frozenset(raw.get("compressible_roles", base.compressible_roles)),
        min_segment_tokens=_positive_int(raw, "min_segment_tokens", base.min_segment_tokens),
        question_max_tokens=_positive_int(raw, "question_max_tokens", base.question_max_tokens),
        time_budget_s=float(raw.get("time_budget_ms", base.time_budget_s * 1000)) / 1000,
        engine=_engine_kind(engine_raw.get("kind", base.engine)),
        engine_url=engine_raw.get("url") or None,
        function_name=engine_raw.get("function_name") or None,
        pays_for_itself=bool(raw.get("pays_for_itself", base.pays_for_itself)),
        min_benefit_ratio=float(raw.get("min_benefit_ratio", base.min_benefit_ratio)),
        engine_cost=cost,
    )


@lru_cache(maxsize=4)
def load_compression_config(path: Path) -> CompressionConfig:
    """The `compression:` section of the gateway config file at `path`."""
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as error:
        raise CompressionConfigError(f"cannot read gateway config {path}: {error}") from error
    return parse_compression(raw.get("compression") if isinstance(raw, Mapping) else None)


_COST_FIELDS = ("seconds_per_1k_tokens", "memory_gb", "usd_per_gb_second", "usd_per_call")


def _engine_kind(value: Any) -> EngineKind:
    if value not in ENGINE_KINDS:
        raise CompressionConfigError(f"compression engine must be one of {ENGINE_KINDS}")
    return value  # type: ignore[no-any-return]


def _positive_int(raw: Mapping[str, Any], name: str, default: int) -> int:
    value = raw.get(name, default)
    if not isinstance(value, int) or value < 0:
        raise CompressionConfigError(f"compression.{name} must be a non-negative integer")
    return value
