"""The compression engine server (functions/ml) from .venv-ml, for integration tests.

Uses the tiny RANDOM test model (PLUMBING ONLY; built on demand by
scripts/build_test_compression_model.py, cached under build/models). Without .venv-ml the
tests are skipped locally and fail under CI, where `make test` must have created it.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import httpx
import pytest

from devstack.stack import ROOT
from tests.integration.stack import ServerProcess

ML_PYTHON = Path(os.environ.get("COMPRESSION_ML_PYTHON") or ROOT / ".venv-ml" / "bin" / "python")
TEST_MODEL = Path(
    os.environ.get("LLMLINGUA_TEST_MODEL_DIR")
    or ROOT / "build" / "models" / "test-tiny-random-bert-base-multilingual-cased"
)
ML_PYTHONPATH = os.pathsep.join(str(ROOT / p) for p in ("layers/llmlingua", "functions/ml", ""))
OFFLINE = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    # Any attempt to reach the internet fails at once instead of hanging.
    "HTTPS_PROXY": "http://127.0.0.1:9",
    "HTTP_PROXY": "http://127.0.0.1:9",
    "NO_PROXY": "127.0.0.1,localhost",
}


def require_ml_venv() -> None:
    if ML_PYTHON.exists():
        return
    message = f"{ML_PYTHON} missing: run `make ml-venv` (make test does)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def ensure_test_model() -> Path:
    if not (TEST_MODEL / "config.json").is_file():
        subprocess.run(  # noqa: S603 - our own script, fixed arguments
            [
                str(ML_PYTHON),
                "scripts/build_test_compression_model.py",
                "--size",
                "tiny",
                "--out",
                str(TEST_MODEL),
            ],
            cwd=ROOT,
            env={**os.environ, **OFFLINE},
            check=True,
            timeout=120,
        )
    return TEST_MODEL


class EngineProcess(ServerProcess):
    """`python -m ml_api` on a free loopback port, model preloaded before the port opens."""

    name = "engine"

    def __init__(self, model_dir: Path, log_path: Path, tiktoken_cache: Path) -> None:
        env = {
            **os.environ,
            **OFFLINE,
            "PYTHONPATH": ML_PYTHONPATH,
            "LLMLINGUA_MODEL_DIR": str(model_dir),
            "TIKTOKEN_CACHE_DIR": str(tiktoken_cache),
        }
        super().__init__([str(ML_PYTHON), "-m", "ml_api"], env, log_path)

    def is_ready(self) -> bool:
        return bool(httpx.get(self.url + "/health", timeout=1).json().get("loaded"))

    def start(self, timeout: float = 90.0) -> EngineProcess:
        return super().start(timeout)
