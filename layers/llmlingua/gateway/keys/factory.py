"""Cached builders wiring the key adapters to the process-wide clients (one set per instance)."""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

from gateway.clients import dynamodb_client, kms_client, redis_client
from gateway.config import load_config
from gateway.errors import DependencyUnavailable
from gateway.keys.credentials import KmsCipher, LocalDevCipher, ProviderCredentials
from gateway.keys.store import KeyStore
from gateway.settings import get_settings

if TYPE_CHECKING:
    from gateway.keys.invalidation import KeyChanges
    from gateway.keys.record_cache import CachedKeyStore, KeyRecordCache
    from gateway.keys.service import KeyService
    from gateway.keys.spend_logs import SpendLogReader
    from gateway.keys.stage import VirtualKeyStage


def pepper() -> str:
    secret = get_settings().key_pepper
    if secret is None:
        raise DependencyUnavailable("Virtual keys are not configured: KEY_PEPPER is not set.")
    return secret.get_secret_value()


@lru_cache(maxsize=1)
def key_store() -> KeyStore:
    return KeyStore(dynamodb_client(), get_settings().keys_table)


def key_record_cache(for_changes: bool = False) -> KeyRecordCache | None:
    """The Valkey copy of key records (issue 7), or None without REDIS_URL or when disabled.
    Lookups use a short-timeout client; invalidations the shared one (2 s, one retry)."""
    settings = get_settings()
    if not settings.key_cache_enabled or not settings.redis_url:
        return None
    from gateway.keys.record_cache import KeyRecordCache, lookup_client

    client = (
        redis_client()
        if for_changes
        else lookup_client(settings.redis_url, settings.key_cache_socket_timeout)
    )
    return KeyRecordCache(
        client,
        ttl_s=settings.key_cache_ttl_seconds,
        negative_ttl_s=settings.key_cache_negative_ttl_seconds,
        tombstone_s=settings.key_cache_tombstone_seconds,
    )


@lru_cache(maxsize=1)
def key_lookup() -> KeyStore | CachedKeyStore:
    """What authentication reads keys with: the cached copy in front of DynamoDB, if enabled."""
    cache = key_record_cache()
    if cache is None:
        return key_store()
    from gateway.keys.record_cache import CachedKeyStore

    return CachedKeyStore(cache, key_store)


def key_changes() -> KeyChanges | None:
    cache = key_record_cache(for_changes=True)
    if cache is None:
        return None
    from gateway.keys.invalidation import KeyChanges

    return KeyChanges(cache, get_settings().key_cache_ttl_seconds)


@lru_cache(maxsize=1)
def provider_credentials() -> ProviderCredentials:
    settings = get_settings()
    if settings.tenant_credentials_kms_key_id:
        return ProviderCredentials(KmsCipher(kms_client(), settings.tenant_credentials_kms_key_id))
    if settings.gateway_env == "local":
        return ProviderCredentials(LocalDevCipher(pepper()))
    raise DependencyUnavailable(
        "Tenant provider credentials need TENANT_CREDENTIALS_KMS_KEY_ID outside local mode."
    )


@lru_cache(maxsize=1)
def key_service() -> KeyService:
    from gateway.keys.service import KeyService

    settings = get_settings()
    models = load_config(settings.gateway_config).model_names()
    return KeyService(key_store(), provider_credentials, pepper, models, changes=key_changes)


@lru_cache(maxsize=1)
def spend_log_reader() -> SpendLogReader:
    from gateway.keys.spend_logs import SpendLogReader

    return SpendLogReader(dynamodb_client(), get_settings().spend_logs_table)


def virtual_key_stage() -> VirtualKeyStage:
    """The completion path's key stage; flags configured models that have no price."""
    from gateway.keys.stage import VirtualKeyStage
    from gateway.limits import Limiter
    from gateway.observability import logger
    from gateway.pricing import PriceBook
    from gateway.spend import SpendLedger

    settings = get_settings()
    prices = PriceBook(load_config(settings.gateway_config))
    unpriced = prices.unpriced_models()
    if unpriced:
        logger.warning("models_without_price_spend_is_zero", extra={"models": unpriced})
    ledger = SpendLedger(
        dynamodb_client(),
        settings.keys_table,
        settings.spend_logs_table,
        retention_days=settings.spend_log_retention_days,
        attempts=settings.spend_write_attempts,
    )
    return VirtualKeyStage(
        Limiter(redis_client(), settings.inflight_lease_seconds),
        ledger,
        prices,
        provider_credentials,
        default_output_tokens=settings.default_estimated_output_tokens,
        fail_open=settings.limits_fail_open,
        spend_stream=settings.spend_stream,
    )


def clear_factories() -> None:
    """Forget every cached adapter (tests that change the environment)."""
    for factory in (key_store, key_lookup, provider_credentials, key_service, spend_log_reader):
        factory.cache_clear()
