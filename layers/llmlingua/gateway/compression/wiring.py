"""Build the compression stage and its status once per instance, from settings and config."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from gateway.compression.config import CompressionConfig, load_compression_config
from gateway.compression.engine import EngineStatus
from gateway.compression.factory import build_engine
from gateway.compression.pricing import input_price_of
from gateway.compression.service import CompressionService
from gateway.compression.stage import CompressionStage
from gateway.compression.tokens import TokenCounter, token_counter
from gateway.config import GatewayConfig
from gateway.settings import Settings, get_settings

__all__ = ["compression_config", "compression_stage", "compression_status"]


def compression_config(settings: Settings | None = None) -> CompressionConfig:
    settings = settings or get_settings()
    return load_compression_config(Path(settings.gateway_config)).with_env(settings.model_dump())


@lru_cache(maxsize=1)
def _engine() -> tuple[object, EngineStatus]:
    settings = get_settings()
    return build_engine(
        compression_config(settings),
        region=settings.aws_region,
        lambda_endpoint=settings.compression_lambda_endpoint_url,
    )


def compression_status() -> EngineStatus:
    """For /health: enabled or not, which engine, and why not (never loads the model)."""
    return _engine()[1]


def compression_stage(config: GatewayConfig) -> CompressionStage:
    engine, status = _engine()
    service = CompressionService(
        compression_config(),
        engine,  # type: ignore[arg-type]
        token_counter() if engine is not None else TokenCounter(None),  # tiktoken only if used
        input_price_of(config),
        disabled_reason=None if status.enabled else f"disabled:{status.reason}",
    )
    return CompressionStage(service)
