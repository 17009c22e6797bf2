"""Cache settings: the config's `cache_params`, per-key overrides and per-request controls."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from gateway.errors import InvalidRequest

DEFAULT_THRESHOLD = 0.8
TOP_K = 3  # semantic candidates examined: the guards may reject the nearest one
MAX_TTL = 30 * 24 * 3600
# LiteLLM's call-type names (and ours) -> the gateway's call kinds.
_CALL_TYPES = {
    "completion": "chat", "acompletion": "chat", "chat": "chat",
    "text_completion": "text_completion", "atext_completion": "text_completion",
    "embedding": "embedding", "aembedding": "embedding",
}  # fmt: skip


@dataclass(frozen=True)
class CachePolicy:
    """One tenant's effective cache settings (config, then the key's overrides)."""

    enabled: bool = False
    semantic: bool = True  # type redis-semantic; plain `redis` is the exact tier only
    ttl: int = 3600
    namespace: str = "litellm:cache"
    threshold: float = DEFAULT_THRESHOLD
    substitution_threshold: float = 0.92
    embedding_model: str | None = "local/all-MiniLM-L6-v2"
    call_types: frozenset[str] = frozenset({"chat", "text_completion", "embedding"})
    default_off: bool = False  # LiteLLM `mode: default_off`: only requests that ask are cached
    max_connections: int = 50
    semantic_max_chars: int = 1000  # longer prompts: exact tier only (the model reads 256 tokens)
    max_entries_per_namespace: int = 10_000
    fallback_max_entries: int = 256  # vectors scanned per partition without a search module
    search_mode: str = "auto"  # auto | search | fallback

    @classmethod
    def from_config(
        cls, litellm_settings: Mapping[str, Any], enabled_override: bool | None = None
    ) -> CachePolicy:
        params = dict(litellm_settings.get("cache_params") or {})
        enabled = bool(litellm_settings.get("cache", False))
        if enabled_override is not None:
            enabled = enabled_override
        types = params.get("supported_call_types")
        call_types = (
            frozenset(_CALL_TYPES[t] for t in types if t in _CALL_TYPES)
            if types
            else cls.call_types
        )
        return cls(
            enabled=enabled,
            semantic=str(params.get("type", "redis-semantic")) == "redis-semantic",
            ttl=_bounded_ttl(params.get("ttl", 3600)),
            namespace=str(params.get("namespace") or "litellm:cache"),
            threshold=float(params.get("similarity_threshold", DEFAULT_THRESHOLD)),
            substitution_threshold=float(params.get("substitution_threshold", 0.92)),
            embedding_model=params.get("redis_semantic_cache_embedding_model")
            or cls.embedding_model,
            call_types=call_types,
            default_off=params.get("mode") == "default_off",
            max_connections=int(params.get("max_connections", 50)),
            semantic_max_chars=int(params.get("semantic_max_chars", 1000)),
            max_entries_per_namespace=int(params.get("max_entries_per_namespace", 10_000)),
            fallback_max_entries=int(params.get("fallback_max_entries", 256)),
            search_mode=str(params.get("search_mode", "auto")),
        )

    def for_key(self, key: Any) -> CachePolicy:
        """Apply the key's overrides: `metadata.cache` (or a `cache_settings` attribute)."""
        overrides = key_overrides(key)
        if not overrides:
            return self
        changes: dict[str, Any] = {}
        if "similarity_threshold" in overrides:
            changes["threshold"] = float(overrides["similarity_threshold"])
        if "ttl" in overrides:
            changes["ttl"] = _bounded_ttl(overrides["ttl"])
        if overrides.get("enabled") is False or overrides.get("no-cache") is True:
            changes["enabled"] = False
        return replace(self, **changes)


def key_overrides(key: Any) -> Mapping[str, Any]:
    if key is None:
        return {}
    found = getattr(key, "cache_settings", None)
    if found is None:
        metadata = getattr(key, "metadata", None)
        if metadata is None and isinstance(key, Mapping):
            metadata = key.get("metadata")
        found = (metadata or {}).get("cache") if isinstance(metadata, Mapping) else None
    return found if isinstance(found, Mapping) else {}


@dataclass(frozen=True)
class RequestControls:
    """LiteLLM's per-request cache controls: the `cache` body field and Cache-Control."""

    no_cache: bool = False  # do not look up
    no_store: bool = False  # do not store the answer
    ttl: int | None = None
    max_age: int | None = None  # s-maxage: only accept entries at most this old (seconds)
    asked: bool = False  # the request named any control (for `mode: default_off`)


def request_controls(params: dict[str, Any], headers: Mapping[str, str]) -> RequestControls:
    """Read and REMOVE the `cache` field from `params` (it must never reach the provider)."""
    field = params.pop("cache", None)
    if field is not None and not isinstance(field, Mapping):
        raise InvalidRequest("'cache' must be an object, e.g. {\"no-cache\": true}", param="cache")
    field = field or {}
    directives = {
        part.strip().lower()
        for part in (headers.get("cache-control") or headers.get("Cache-Control") or "").split(",")
    }
    ttl = _optional_seconds(field.get("ttl"), "cache.ttl")
    max_age = _optional_seconds(field.get("s-maxage"), "cache.s-maxage")
    return RequestControls(
        no_cache=bool(field.get("no-cache")) or "no-cache" in directives,
        no_store=bool(field.get("no-store")) or "no-store" in directives,
        ttl=ttl,
        max_age=max_age,
        asked=bool(field) or bool(directives - {""}),
    )


def _optional_seconds(value: Any, name: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= MAX_TTL:
        raise InvalidRequest(f"'{name}' must be a number of seconds in 1..{MAX_TTL}", param=name)
    return int(value)


def _bounded_ttl(value: Any) -> int:
    return max(1, min(int(value), MAX_TTL))


def call_kind_supported(policy: CachePolicy, kind: str) -> bool:
    return kind in policy.call_types
