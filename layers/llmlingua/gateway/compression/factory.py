"""Pick the engine adapter from the config: or report why compression is off.

`auto`: the Lambda function if COMPRESSION_FUNCTION_NAME is set, else the HTTP engine if
COMPRESSION_ENGINE_URL is set, else llmlingua in this process if it is installed and a model
directory is present. Nothing is loaded here: /health stays fast and never imports torch.
"""

from __future__ import annotations

import importlib.util
from typing import Any

from gateway.compression.config import CompressionConfig
from gateway.compression.engine import CompressionEngine, EngineStatus


def build_engine(
    config: CompressionConfig, *, region: str = "us-east-1", lambda_endpoint: str | None = None
) -> tuple[CompressionEngine | None, EngineStatus]:
    if not config.enabled or config.engine == "off":
        return None, EngineStatus(False, reason="disabled_in_config")
    kind = config.engine
    if kind == "auto":
        kind = "lambda" if config.function_name else "http" if config.engine_url else "inprocess"
    if kind == "lambda":
        return _lambda(config, region, lambda_endpoint)
    if kind == "http":
        return _http(config)
    return _inprocess(config)


def _lambda(
    config: CompressionConfig, region: str, endpoint: str | None
) -> tuple[CompressionEngine | None, EngineStatus]:
    if not config.function_name:
        return None, EngineStatus(False, "lambda", reason="no_function_name")
    from gateway.compression.engine_lambda import LambdaEngine, lambda_client

    client = lambda_client(region, endpoint, config.time_budget_s + 1)
    status = EngineStatus(True, "lambda", target=config.function_name)
    return LambdaEngine(config.function_name, client), status


def _http(config: CompressionConfig) -> tuple[CompressionEngine | None, EngineStatus]:
    if not config.engine_url:
        return None, EngineStatus(False, "http", reason="no_engine_url")
    from gateway.compression.engine_http import HttpEngine

    engine = HttpEngine(config.engine_url, timeout_s=config.time_budget_s + 1)
    return engine, EngineStatus(True, "http", target=config.engine_url)


def _inprocess(config: CompressionConfig) -> tuple[CompressionEngine | None, EngineStatus]:
    from gateway.compression.engine_inprocess import InProcessEngine, model_problem

    model = config.model_dir.name if config.model_dir else None
    problem = model_problem(config.model_dir)
    if problem is not None:
        return None, EngineStatus(False, "inprocess", reason=problem, model=model)
    if not _installed("llmlingua") or not _installed("torch"):
        return None, EngineStatus(False, "inprocess", reason="llmlingua_not_installed", model=model)
    assert config.model_dir is not None
    return InProcessEngine(config.model_dir), EngineStatus(True, "inprocess", model=model)


def _installed(module: str) -> Any:
    return importlib.util.find_spec(module) is not None
