"""The process-wide in-process engine of the ML function, from LLMLINGUA_MODEL_DIR."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from gateway.compression.engine_inprocess import InProcessEngine, model_problem


def model_dir() -> Path | None:
    value = os.environ.get("LLMLINGUA_MODEL_DIR")
    return Path(value) if value else None


@lru_cache(maxsize=1)
def engine() -> InProcessEngine | None:
    """None when no loadable model directory is configured (the API then answers 503)."""
    directory = model_dir()
    if directory is None or model_problem(directory) is not None:
        return None
    return InProcessEngine(directory, device=os.environ.get("LLMLINGUA_DEVICE", "cpu"))
