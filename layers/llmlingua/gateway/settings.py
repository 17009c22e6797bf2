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
