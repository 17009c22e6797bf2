"""Process-wide clients for the outside systems (Redis/Valkey, DynamoDB, KMS).

Each is built lazily on first use and cached for the life of the Lambda instance, so a request
that never needs one never pays for its import. Adapters take these clients as arguments; tests
pass their own (moto, a local Valkey) instead.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from gateway.settings import get_settings

# Short timeouts: a stuck dependency must fail a request fast, not hold a Lambda for minutes.
_REDIS_TIMEOUT_S = 2.0
_AWS_CONNECT_TIMEOUT_S = 2
_AWS_READ_TIMEOUT_S = 5


@lru_cache(maxsize=1)
def redis_client() -> Any:
    """A redis-py client for REDIS_URL (binary replies; connects on first command)."""
    import redis
    from redis.backoff import ExponentialWithJitterBackoff
    from redis.retry import Retry

    url = get_settings().redis_url or "redis://127.0.0.1:6379/0"
    return redis.Redis.from_url(
        url,
        socket_timeout=_REDIS_TIMEOUT_S,
        socket_connect_timeout=_REDIS_TIMEOUT_S,
        health_check_interval=30,
        # redis-py 8 retries 3 times with backoffs of up to 10 s by default: a down Redis would
        # hold every request for seconds. One quick retry rides out a failover blip.
        retry=Retry(ExponentialWithJitterBackoff(base=0.05, cap=0.2), retries=1),
    )


def _aws_config() -> Any:
    from botocore.config import Config

    return Config(
        connect_timeout=_AWS_CONNECT_TIMEOUT_S,
        read_timeout=_AWS_READ_TIMEOUT_S,
        retries={"max_attempts": 3, "mode": "standard"},
    )


@lru_cache(maxsize=1)
def dynamodb_client() -> Any:
    """A boto3 DynamoDB client (DYNAMODB_ENDPOINT_URL locally, the regional endpoint in AWS)."""
    import boto3

    settings = get_settings()
    return boto3.client(
        "dynamodb",
        endpoint_url=settings.dynamodb_endpoint_url,
        region_name=settings.aws_region,
        config=_aws_config(),
    )


@lru_cache(maxsize=1)
def kms_client() -> Any:
    """A boto3 KMS client (KMS_ENDPOINT_URL locally, e.g. the moto server)."""
    import boto3

    settings = get_settings()
    return boto3.client(
        "kms",
        endpoint_url=settings.kms_endpoint_url,
        region_name=settings.aws_region,
        config=_aws_config(),
    )


def clear_clients() -> None:
    """Forget the cached clients (tests that change the environment)."""
    for factory in (redis_client, dynamodb_client, kms_client):
        factory.cache_clear()
