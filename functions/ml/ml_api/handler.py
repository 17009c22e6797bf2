"""Lambda entry of the ML function.

Direct invocations (the completion function's Lambda adapter) carry {"action": "compress" |
"embed" | "health", ...} and get {"status": N, ...body} back; HTTP events (a function URL or
API Gateway, if one is ever attached) go through Mangum to the same FastAPI app. The model loads
during Lambda's init phase, so the first request does not pay for it.
"""

from __future__ import annotations

import os
from typing import Any

from ml_api.app import app, compress, health
from ml_api.embed import embed
from ml_api.engine import engine

_ACTIONS = {"compress": compress, "embed": embed}


def direct(event: Any) -> dict[str, Any]:
    action = event.get("action") if isinstance(event, dict) else None
    if action == "health":
        return {"status": 200, **health()}
    if action not in _ACTIONS:
        return {"status": 400, "error": {"message": "unknown action", "type": "invalid_request"}}
    status, body = _ACTIONS[action](event)
    return {"status": status, **body}


def _http_handler() -> Any:
    from mangum import Mangum

    return Mangum(app, lifespan="off")


def handler(event: Any, context: Any) -> Any:
    if isinstance(event, dict) and "action" in event:
        return direct(event)
    return _http_handler()(event, context)


_ENGINE = engine()
if "AWS_LAMBDA_FUNCTION_NAME" in os.environ and _ENGINE is not None:
    _ENGINE.load()  # init phase: load tokenizer and weights once, before the first request
