"""The completion function: FastAPI app and its Lambda handler."""

from __future__ import annotations

from fastapi import FastAPI
from gateway import warmup
from gateway.settings import get_settings
from gateway.web.body_limit import BodySizeLimit
from gateway.web.errors import install_error_handlers
from gateway.web.lambda_entry import lambda_handler_for

from completion_api.deps import completion_service
from completion_api.routes import health, inference, lifecycle, metrics, models


def create_app() -> FastAPI:
    app = FastAPI(title="LLM gateway: completions", version="0.1.0")
    install_error_handlers(app)
    app.add_middleware(BodySizeLimit, max_bytes=lambda: get_settings().max_request_bytes)
    for module in (inference, models, health, metrics, lifecycle):
        app.include_router(module.router)
    return app


app = create_app()
handler = lambda_handler_for(app)
# SnapStart for the plain Mangum handler (no LWA): the runtime's own hooks.
warmup.register_runtime_hooks(completion_service)
