"""SnapStart hooks for the Lambda Web Adapter (AWS_LWA_SNAPSTART_BEFORE_CHECKPOINT_PATH and
AWS_LWA_SNAPSTART_AFTER_RESTORE_PATH in template.yaml). LWA calls them on 127.0.0.1 and refuses
them from outside; API Gateway has no route to them either (template.yaml lists every route)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from gateway import warmup

from completion_api.deps import completion_service

router = APIRouter(include_in_schema=False)
BEFORE_CHECKPOINT = "/_lwa/snapstart/before-checkpoint"
AFTER_RESTORE = "/_lwa/snapstart/after-restore"


@router.post(BEFORE_CHECKPOINT)
def before_checkpoint() -> dict[str, Any]:
    # A plain `def`: FastAPI runs it in a worker thread, so the seconds of priming (litellm
    # import) do not block the event loop.
    return {"primed": warmup.prime(completion_service)}


@router.post(AFTER_RESTORE)
def after_restore() -> dict[str, str]:
    warmup.after_restore()
    return {"status": "restored"}
