"""The compression engine server (functions/ml) from .venv-ml, for integration tests.

Uses the tiny RANDOM test model (PLUMBING ONLY; built on demand by
scripts/build_test_compression_model.py, cached under build/models). Without .venv-ml the
tests are skipped locally and fail under CI, where `make test` must have created it.
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from devstack.ports import free_port
from devstack.stack import ROOT

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


class EngineProcess:
    """`python -m ml_api` on a free loopback port, model preloaded before the port opens."""

    def __init__(self, model_dir: Path, log_path: Path, tiktoken_cache: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._env = {
            **os.environ,
            **OFFLINE,
            "PYTHONPATH": ML_PYTHONPATH,
            "LLMLINGUA_MODEL_DIR": str(model_dir),
            "TIKTOKEN_CACHE_DIR": str(tiktoken_cache),
        }
        self._log_path = log_path
        self._process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 90.0) -> EngineProcess:
        log = self._log_path.open("wb")
        self._process = subprocess.Popen(  # noqa: S603 - our own module, fixed arguments
            [str(ML_PYTHON), "-m", "ml_api", "--port", str(self.port)],
            cwd=ROOT,
            env=self._env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"engine exited:\n{self._log_path.read_text()[-3000:]}")
            try:
                if httpx.get(self.url + "/health", timeout=1).json().get("loaded"):
                    return self
            except (httpx.HTTPError, ValueError):
                time.sleep(0.2)
        raise RuntimeError(f"engine did not start:\n{self._log_path.read_text()[-3000:]}")

    def stop(self) -> None:
        if self._process and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
