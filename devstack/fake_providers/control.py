"""Control endpoints: /_fake/faults, /_fake/reset, /_fake/calls, /_fake/health."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from .runtime import fake_state, read_json
from .state import Fault

router = APIRouter(prefix="/_fake")


@router.post("/faults")
async def add_fault(request: Request) -> JSONResponse:
    """Queue a fault (see state.Fault); 400 on a bad payload."""
    payload = await read_json(request)
    try:
        fault = Fault.from_json(payload if isinstance(payload, dict) else {})
    except (TypeError, ValueError) as exc:
        return JSONResponse({"error": str(exc)}, status_code=400)
    state = fake_state(request)
    state.add_fault(fault)
    return JSONResponse({"ok": True, "faults": state.faults()})


@router.get("/faults")
async def list_faults(request: Request) -> JSONResponse:
    """Faults still queued."""
    return JSONResponse({"faults": fake_state(request).faults()})


@router.post("/reset")
async def reset(request: Request) -> JSONResponse:
    """Clear faults and the call log."""
    fake_state(request).reset()
    return JSONResponse({"ok": True})


@router.get("/calls")
async def calls(request: Request) -> JSONResponse:
    """Recorded provider calls, most recent last."""
    return JSONResponse(fake_state(request).calls())


@router.get("/health")
async def health(request: Request) -> JSONResponse:
    """Liveness probe carrying the server name."""
    return JSONResponse({"ok": True, "name": fake_state(request).name})
