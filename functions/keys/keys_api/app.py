"""The keys function: FastAPI app and its Lambda handler."""

from __future__ import annotations

from fastapi import FastAPI
from gateway.settings import get_settings
from gateway.web.body_limit import BodySizeLimit
from gateway.web.errors import install_error_handlers
from gateway.web.lambda_entry import lambda_handler_for

from keys_api.routes import keys, spend


def create_app() -> FastAPI:
    app = FastAPI(title="LLM gateway: keys", version="0.1.0")
    install_error_handlers(app)
    app.add_middleware(BodySizeLimit, max_bytes=lambda: get_settings().max_request_bytes)
    app.include_router(keys.router)
    app.include_router(spend.router)
    return app


app = create_app()
handler = lambda_handler_for(app)
