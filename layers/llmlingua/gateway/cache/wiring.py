"""Builds the CacheStage from the config and the settings (called once per instance)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gateway.cache.client import cache_redis
from gateway.cache.policy import CachePolicy
from gateway.cache.stage import CacheStage
from gateway.cache.store import CacheStore
from gateway.config import GatewayConfig
from gateway.embeddings.factory import build_embedder
from gateway.settings import Settings, get_settings


def cache_stage(
    config: GatewayConfig,
    router: Callable[[], Any] | None = None,
    settings: Settings | None = None,
) -> CacheStage:
    """The stage is always present: even with the cache off it strips the `cache` body field.
    Without REDIS_URL there is nowhere to cache, so the policy is off."""
    settings = settings or get_settings()
    policy = CachePolicy.from_config(config.litellm_settings, settings.cache_enabled)
    if not settings.redis_url:
        policy = CachePolicy(enabled=False)
    embedder = build_embedder(
        policy.embedding_model,
        model_dir=settings.embedding_model_dir,
        remote_url=settings.cache_embedder_url,
        remote_function=settings.cache_embedder_function_name,
        remote_timeout=settings.cache_embedder_timeout,
        region=settings.aws_region,
        router=router,
    )
    url = settings.redis_url or ""

    def store() -> CacheStore:
        client = cache_redis(
            url,
            socket_timeout=settings.cache_socket_timeout,
            connect_timeout=settings.cache_connect_timeout,
            max_connections=policy.max_connections,
        )
        return CacheStore(
            client,
            policy.namespace,
            embedder.name if embedder else "none",
            search_mode=policy.search_mode,
            max_entries=policy.max_entries_per_namespace,
            fallback_max_entries=policy.fallback_max_entries,
        )

    return CacheStage(policy, store, embedder, breaker_seconds=settings.cache_breaker_seconds)
