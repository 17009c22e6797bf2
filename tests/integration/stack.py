"""Test helpers: the local stack plus gateway server processes standing in for Lambda instances."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Self

import httpx
import yaml

from devstack.ports import free_port
from devstack.stack import ROOT

PYTHONPATH = os.pathsep.join(
    str(ROOT / part) for part in ("layers/llmlingua", "functions/completion", "functions/keys", "")
)


def write_test_config(
    path: Path, extra_deployments: list[dict[str, Any]], *, cache: bool = False, **router: Any
) -> Path:
    """The shipped config plus test-only deployments (shuffle pairs, a flaky provider).
    The response cache is off unless asked for, so repeated prompts reach the provider."""
    config = yaml.safe_load((ROOT / "config" / "litellm_config.yaml").read_text())
    config["litellm_settings"]["cache"] = cache
    config["model_list"] += extra_deployments
    config["router_settings"].update(router)
    path.write_text(yaml.safe_dump(config))
    return path


class ServerProcess:
    """A server of ours in a subprocess on a free loopback port, ready when `is_ready` says so."""

    name = "server"

    def __init__(self, argv: list[str], env: Mapping[str, str], log_path: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._argv = [*argv, "--port", str(self.port)]
        self._env = dict(env)
        self._log_path = log_path
        self._process: subprocess.Popen[bytes] | None = None

    def is_ready(self) -> bool:
        raise NotImplementedError

    def start(self, timeout: float = 60.0) -> Self:
        log = self._log_path.open("wb")
        self._process = subprocess.Popen(  # noqa: S603 - our own module, fixed arguments
            self._argv, cwd=ROOT, env=self._env, stdout=log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"{self.name} exited:\n{self.logs()[-3000:]}")
            try:
                if self.is_ready():
                    return self
            except (httpx.HTTPError, ValueError):
                pass
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} did not start:\n{self.logs()[-3000:]}")

    def logs(self) -> str:
        return self._log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self._process and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()


class GatewayProcess(ServerProcess):
    """`python -m devstack serve` in a subprocess: one Lambda instance's worth of gateway."""

    name = "gateway"

    def __init__(self, env: Mapping[str, str], log_path: Path) -> None:
        argv = [sys.executable, "-m", "devstack", "serve"]
        super().__init__(argv, {**os.environ, **env, "PYTHONPATH": PYTHONPATH}, log_path)

    def is_ready(self) -> bool:
        return httpx.get(self.url + "/health/liveliness", timeout=1).status_code == 200
