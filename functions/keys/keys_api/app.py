"""The keys function: FastAPI app and its Lambda handler."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from gateway import warmup
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


def _build_for_snapshot() -> Any:
    """What a SnapStart snapshot should already hold: the key service (config, models), the
    DynamoDB client and the key-cache invalidation client (redis imports in ~0.2 s). No I/O."""
    from gateway.keys.factory import key_changes, key_service

    key_changes()
    return key_service()


app = create_app()
handler = lambda_handler_for(app)
warmup.register_runtime_hooks(_build_for_snapshot)  # SnapStart (EnableSnapStart), if present
