"""The servers the overhead bench compares, each started on loopback and stopped by its pid.

- `Upstream`: the no-delay OpenAI upstream, either the raw asyncio one (bench.overhead.upstream)
  or the project's fake provider (devstack.fake_providers, FastAPI + uvicorn), in a child process.
- `Gateway`: this gateway as `make run` serves it (devstack serve: uvicorn, the API-Gateway-like
  dispatcher) on the local stack (Valkey with vector search, moto), cache ON, one extra model
  `bench-model` pointing at the upstream, and a virtual key with a budget and RPM/TPM/parallel
  limits, so keys, limits, spend, metrics and the cache-miss path all run.
- `LiteLLMProxy`: `litellm --config` from .venv-litellm-proxy, same model and upstream, master key
  only, no database.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx
import yaml

from devstack.ports import LOOPBACK, free_port
from devstack.stack import ROOT, LocalStack
from tests.integration.stack import PYTHONPATH, GatewayProcess, write_test_config

MODEL = "bench-model"
UPSTREAM_MODEL = "openai/gpt-4o-mini"
MASTER_KEY = "sk-bench-master-key-0123456789"
LITELLM_PROXY = ROOT / ".venv-litellm-proxy" / "bin" / "litellm"
OFFLINE = {
    "LITELLM_LOCAL_MODEL_COST_MAP": "True",
    "LITELLM_OFFLINE_MODE": "true",
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
}
CHAT_PATH = "/v1/chat/completions"


def _wait_ready(url: str, process: subprocess.Popen[bytes], log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url}: exited\n{log.read_text(errors='replace')[-3000:]}")
        try:
            if httpx.get(url, timeout=1).status_code < 500:  # up (the fake wants a key)
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(
        f"{url}: not ready in {timeout} s\n{log.read_text(errors='replace')[-3000:]}"
    )


def empty_spend_logs(env: Mapping[str, str]) -> int:
    """Delete every spend-log item; returns how many. moto's TransactWriteItems deep-copies each
    table it touches (for rollback), so its cost grows with the table and moto never expires
    items by TTL: left alone, the spend write slows from run to run (55 -> 130 ms p50 per
    request within minutes). DynamoDB's does not; the bench keeps the stand-in's table small."""
    from devstack.dynamodb import dynamodb_client

    client = dynamodb_client(env["DYNAMODB_ENDPOINT_URL"])
    table, deleted = env["SPEND_LOGS_TABLE"], 0
    for page in client.get_paginator("scan").paginate(
        TableName=table, ProjectionExpression="key_hash, sk"
    ):
        items = page.get("Items", [])
        for start in range(0, len(items), 25):
            batch = [{"DeleteRequest": {"Key": key}} for key in items[start : start + 25]]
            client.batch_write_item(RequestItems={table: batch})
            deleted += len(batch)
    return deleted


def _stop(process: subprocess.Popen[bytes] | None) -> None:
    if process is not None and process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


class Upstream:
    """kind 'raw' (bench.overhead.upstream) or 'fake' (devstack.fake_providers)."""

    def __init__(self, kind: str, workdir: Path) -> None:
        self.kind = kind
        self.port = free_port()
        self.base = f"http://{LOOPBACK}:{self.port}"
        self.api_base = self.base + "/v1"
        self.chat_url = self.base + CHAT_PATH
        self._log = workdir / f"upstream-{kind}.log"
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> Upstream:
        module = "bench.overhead.upstream" if self.kind == "raw" else "devstack.fake_providers"
        extra = [] if self.kind == "raw" else ["--name", "fake-openai", "--host", LOOPBACK]
        with self._log.open("wb") as log:
            self._process = subprocess.Popen(  # noqa: S603 - our own modules
                [sys.executable, "-m", module, "--port", str(self.port), *extra],
                cwd=ROOT,
                env={**os.environ, "PYTHONPATH": PYTHONPATH},
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        # The fake answers GET /v1/models; the raw one answers any GET.
        _wait_ready(self.base + "/v1/models", self._process, self._log, 30)
        return self

    def stop(self) -> None:
        _stop(self._process)


def _deployment(upstream: Upstream) -> dict[str, Any]:
    params = {"model": UPSTREAM_MODEL, "api_key": "sk-fake-upstream", "api_base": upstream.api_base}
    return {"model_name": MODEL, "litellm_params": params}


class Gateway:
    """The local stack plus one gateway process; `key` is a limited virtual key."""

    def __init__(
        self,
        upstream: Upstream,
        workdir: Path,
        namespace: str = "bench:overhead",
        *,
        cache_type: str | None = None,
        stack: LocalStack | None = None,
    ) -> None:
        """`cache_type` overrides the config's `cache_params.type` (e.g. "redis": exact tier
        only); `stack` shares another Gateway's Valkey and moto instead of starting new ones."""
        self.upstream, self.workdir, self.namespace = upstream, workdir, namespace
        self.cache_type = cache_type
        self._own_stack = stack is None
        self.stack: LocalStack | None = stack
        self.process: GatewayProcess | None = None
        self.key = ""

    @property
    def chat_url(self) -> str:
        assert self.process is not None
        return self.process.url + CHAT_PATH

    def start(self, env: Mapping[str, str] | None = None) -> Gateway:
        try:
            return self._start(env)
        except BaseException:
            self.stop()
            raise

    def _start(self, env: Mapping[str, str] | None) -> Gateway:
        if self.stack is None:
            self.stack = LocalStack({"LITELLM_MASTER_KEY": MASTER_KEY}).start()
        config = write_test_config(
            self.workdir / f"gateway-config-{self.namespace.replace(':', '-')}.yaml",
            [_deployment(self.upstream)],
            cache=True,
        )
        data = yaml.safe_load(config.read_text())
        data["litellm_settings"]["cache_params"]["namespace"] = self.namespace
        if self.cache_type:
            data["litellm_settings"]["cache_params"]["type"] = self.cache_type
        config.write_text(yaml.safe_dump(data))
        run_env = {**self.stack.env, **OFFLINE, "GATEWAY_CONFIG": str(config), **(env or {})}
        log = self.workdir / f"gateway-{self.namespace.replace(':', '-')}.log"
        self.process = GatewayProcess(run_env, log).start()
        self.key = self._virtual_key()
        return self

    def _virtual_key(self) -> str:
        assert self.process is not None
        settings = {
            "key_alias": "bench-tenant",
            "team_id": "bench-team",
            "models": [MODEL],
            "max_budget": 1_000_000.0,
            "budget_duration": "30d",
            "rpm_limit": 10_000_000,
            "tpm_limit": 1_000_000_000,
            "max_parallel_requests": 10_000,
        }
        reply = httpx.post(
            self.process.url + "/key/generate",
            json=settings,
            headers={"Authorization": f"Bearer {MASTER_KEY}"},
            timeout=30,
        )
        if reply.status_code != 200:
            raise RuntimeError(f"/key/generate: {reply.status_code} {reply.text}")
        return str(reply.json()["key"])

    def logs(self) -> str:
        return self.process.logs() if self.process else ""

    def reset(self) -> int:
        """Before each measured run: an empty spend-log table (see empty_spend_logs)."""
        assert self.stack is not None
        return empty_spend_logs(self.stack.env)

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()
        if self.stack is not None and self._own_stack:
            self.stack.stop()


class LiteLLMProxy:
    """`litellm --config` (the LiteLLM proxy, uvicorn, one worker), master key only."""

    def __init__(self, upstream: Upstream, workdir: Path) -> None:
        self.port = free_port()
        self.url = f"http://{LOOPBACK}:{self.port}"
        self.chat_url = self.url + CHAT_PATH
        self.key = MASTER_KEY
        self.upstream, self.workdir = upstream, workdir
        self._log = workdir / "litellm-proxy.log"
        self._process: subprocess.Popen[bytes] | None = None

    @staticmethod
    def available() -> bool:
        return LITELLM_PROXY.exists()

    def start(self, timeout: float = 180.0) -> LiteLLMProxy:
        ours = yaml.safe_load((ROOT / "config" / "litellm_config.yaml").read_text())
        config = {
            "model_list": [_deployment(self.upstream)],
            "router_settings": ours["router_settings"],
            "litellm_settings": {"drop_params": True},
            "general_settings": {"master_key": MASTER_KEY},
        }
        path = self.workdir / "litellm-proxy-config.yaml"
        path.write_text(yaml.safe_dump(config))
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "REDIS_"))}
        env.update(OFFLINE, LITELLM_LOG="ERROR", PYTHONPATH="")
        with self._log.open("wb") as log:
            self._process = subprocess.Popen(  # noqa: S603 - the pinned proxy, fixed arguments
                [str(LITELLM_PROXY), "--config", str(path), "--host", LOOPBACK,
                 "--port", str(self.port), "--num_workers", "1"],
                cwd=tempfile.gettempdir(),
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )  # fmt: skip
        _wait_ready(self.url + "/health/liveliness", self._process, self._log, timeout)
        return self

    def stop(self) -> None:
        _stop(self._process)
