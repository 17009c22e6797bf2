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
    return KeyService(key_store(), provider_credentials, pepper, models)


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
    )


def clear_factories() -> None:
    """Forget every cached adapter (tests that change the environment)."""
    for factory in (key_store, provider_credentials, key_service, spend_log_reader):
        factory.cache_clear()
