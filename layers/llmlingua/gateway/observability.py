"""The one Powertools Logger, Tracer and Metrics every module shares.

Logs are structured JSON with the request id; they never carry keys or prompt text.
Outside Lambda (local stack, tests) tracing is off unless POWERTOOLS_TRACE_DISABLED=false.
"""

from __future__ import annotations

import os

from aws_lambda_powertools import Logger, Metrics, Tracer

_IN_LAMBDA = "AWS_LAMBDA_FUNCTION_NAME" in os.environ
IN_LAMBDA = _IN_LAMBDA  # observability (issue 6): EMF and per-request flushes default on here
SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "llm-gateway")

logger = Logger(service=SERVICE)
tracer = Tracer(service=SERVICE, disabled=not _IN_LAMBDA)
metrics = Metrics(
    service=SERVICE, namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "LLMGateway")
)
