"""One validated Settings object, read from the environment once per cold start."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

_DEFAULT_CONFIG = Path(__file__).resolve().parents[3] / "config" / "litellm_config.yaml"
_PLACEHOLDER_MARKERS = ("change-me", "changeme", "placeholder", "example")


class Settings(BaseSettings):
    """Everything the gateway reads from its environment; see .env.example for each variable."""

    model_config = SettingsConfigDict(extra="ignore", case_sensitive=False)

    gateway_env: Literal["local", "dev", "prod"] = "local"
    gateway_config: Path = Field(default=_DEFAULT_CONFIG)
    litellm_master_key: SecretStr | None = None
    max_request_bytes: int = Field(default=1_048_576, gt=0)
    redis_url: str | None = None
    dynamodb_endpoint_url: str | None = None
    aws_region: str = Field(default="us-east-1", alias="AWS_REGION")
    keys_table: str = "gateway-keys"
    spend_logs_table: str = "gateway-spend-logs"
    key_pepper: SecretStr | None = None
    demo_mode: bool = False
    # --- Prompt compression (issue 5): docs/compression.md. Unset = the config file's value.
    compression_enabled: bool | None = None
    llmlingua_model_dir: Path | None = None
    compression_engine: Literal["auto", "inprocess", "http", "lambda", "off"] | None = None
    compression_engine_url: str | None = None  # engine server (local process, GPU service)
    compression_function_name: str | None = None  # the ML function, invoked through Lambda
    compression_lambda_endpoint_url: str | None = None  # local/test emulation of the Lambda API
    # --- Virtual keys, limits and spend (issue 3): docs/keys.md
    tenant_credentials_kms_key_id: str | None = None  # unset + local: the local dev cipher
    kms_endpoint_url: str | None = None  # local only (e.g. the moto server)
    spend_log_retention_days: int = Field(default=90, ge=1, le=3650)  # spend-log item TTL
    inflight_lease_seconds: int = Field(default=330, ge=30, le=3600)  # >= function timeout
    default_estimated_output_tokens: int = Field(default=256, ge=1, le=1_000_000)
    spend_write_attempts: int = Field(default=6, ge=1, le=10)
    limits_fail_open: bool = True  # Redis down: keep serving (budget still checked on DynamoDB)
    # --- Spend off the response path (issue 7, performance): docs/keys.md "Spend"
    spend_stream: str = Field(default="gw:spend:stream", min_length=1, max_length=200)
    spend_flush_claim_idle_seconds: int = Field(default=30, ge=0, le=3600)  # then re-claimed
    # --- Key record cache (issue 7, performance): docs/keys.md "Revocation latency"
    key_cache_enabled: bool = True  # needs REDIS_URL, the same in the completion and keys functions
    key_cache_ttl_seconds: int = Field(default=300, ge=1, le=3600)  # backstop; changes invalidate
    key_cache_negative_ttl_seconds: int = Field(default=30, ge=0, le=300)  # 0: never cache absence
    key_cache_tombstone_seconds: int = Field(default=10, ge=2, le=300)  # no fills after a change
    key_cache_socket_timeout: float = Field(default=0.25, gt=0)  # request-path reads; then DynamoDB
    # --- Observability (issue 6): docs/observability.md
    metrics_enabled: bool = True  # fleet-wide Prometheus counters in Redis
    metrics_require_auth: bool = False  # GET /metrics needs the master key
    metrics_redis_prefix: str = "gw:metrics:v1"
    metrics_max_teams: int = Field(default=100, ge=1)  # distinct team labels fleet-wide
    metrics_max_models: int = Field(default=200, ge=1)  # distinct model labels per instance
    metrics_redis_timeout: float = Field(default=0.25, gt=0)  # seconds; then the write is dropped
    metrics_emf: bool | None = None  # CloudWatch EMF per request; None: only inside Lambda
    telemetry_flush_each_request: bool | None = None  # None: only inside Lambda
    log_prompts: bool = False  # debug only: put prompt text in the request log
    langfuse_public_key: str | None = None
    langfuse_secret_key: SecretStr | None = None
    langfuse_host: str = "https://cloud.langfuse.com"
    # --- Semantic cache (issue 4): docs/cache.md. REDIS_URL wins over cache_params host/port.
    cache_enabled: bool | None = None  # unset = the config's `litellm_settings.cache`
    cache_socket_timeout: float = Field(default=0.1, gt=0)  # seconds per Redis command
    cache_connect_timeout: float = Field(default=0.2, gt=0)
    cache_breaker_seconds: float = Field(default=5.0, ge=0)  # skip the cache after a failure
    embedding_model_dir: Path = Field(
        default=Path(__file__).resolve().parents[3] / "models" / "all-MiniLM-L6-v2-int8"
    )
    cache_embedder_url: str | None = None  # remote /embed endpoint for the local/ model
    cache_embedder_function_name: str | None = None  # or the ML function, invoked directly
    cache_embedder_timeout: float = Field(default=1.0, gt=0)

    @field_validator("litellm_master_key")
    @classmethod
    def _master_key_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith("sk-"):
            raise ValueError("LITELLM_MASTER_KEY must start with 'sk-'")
        return value

    @model_validator(mode="after")
    def _no_placeholders_outside_local(self) -> Settings:
        if self.gateway_env == "local":
            return self
        for name in ("litellm_master_key", "key_pepper"):
            secret: SecretStr | None = getattr(self, name)
            if secret is None:
                raise ValueError(f"{name.upper()} is required when GATEWAY_ENV={self.gateway_env}")
            lowered = secret.get_secret_value().lower()
            if any(marker in lowered for marker in _PLACEHOLDER_MARKERS):
                raise ValueError(f"{name.upper()} is a placeholder; set a real secret")
        return self


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, validated at first use (cold start)."""
    return Settings()
