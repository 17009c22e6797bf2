"""Wrap a FastAPI app as a Lambda handler: Mangum + Powertools logging, tracing and metrics."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from mangum import Mangum

from gateway.observability import logger, metrics, tracer

LambdaHandler = Callable[[dict[str, Any], Any], dict[str, Any]]


def lambda_handler_for(app: FastAPI) -> LambdaHandler:
    """API Gateway (REST or HTTP API) events in, API Gateway responses out."""
    asgi = Mangum(app, lifespan="off", api_gateway_base_path="/")

    @logger.inject_lambda_context(clear_state=True)
    @tracer.capture_lambda_handler(capture_response=False)
    @metrics.log_metrics
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        _ensure_event_loop()
        try:
            return asgi(event, context)
        finally:
            _flush_telemetry()

    return handler


def _ensure_event_loop() -> None:
    """Mangum finds its event loop once, when it is built; anything that ran `asyncio.run()`
    since (it closes its loop and leaves none current) would fail the next invocation."""
    try:
        if not asyncio.get_event_loop().is_closed():
            return
    except RuntimeError:
        pass
    asyncio.set_event_loop(asyncio.new_event_loop())


def _flush_telemetry() -> None:
    """Send buffered traces (Langfuse) before Lambda freezes the instance (issue 6). Only where
    the metrics package is in use: the keys function never loads it (prometheus_client and the
    rest cost ~40 ms of its cold start)."""
    if "gateway.metrics.factory" not in sys.modules:
        return
    from gateway.metrics.factory import flush_telemetry

    try:
        flush_telemetry()
    except Exception:  # noqa: BLE001 - never fail the invocation over telemetry
        logger.warning("telemetry flush failed")
