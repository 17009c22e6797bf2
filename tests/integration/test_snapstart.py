"""SnapStart priming (gateway/warmup.py) through the Lambda Web Adapter hook routes, in a fresh
interpreter: the before-checkpoint hook must leave litellm imported, its Router built and the
embedding model loaded, without opening a network connection (the snapshot would keep it)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from devstack.ports import free_port
from devstack.stack import ROOT, LocalStack
from tests.cache_support import ensure_embedding_model
from tests.integration.conftest import MASTER_KEY
from tests.integration.stack import PYTHONPATH
from tests.integration.test_cache_e2e import cached_config

HOOKS = """
import json, sys
from fastapi.testclient import TestClient
from completion_api.app import app
from completion_api.routes.lifecycle import AFTER_RESTORE, BEFORE_CHECKPOINT
before = set(sys.modules)
with TestClient(app) as client:
    primed = client.post(BEFORE_CHECKPOINT)
    restored = client.post(AFTER_RESTORE)
from completion_api.deps import completion_service
router = completion_service().router
print(json.dumps({
    "primed": primed.status_code, "restored": restored.status_code, "body": primed.json(),
    "litellm": "litellm" in sys.modules and "litellm" not in before,
    "router_built": getattr(router, "_router", None) is not None,
    "onnxruntime": "onnxruntime" in sys.modules,
}))
"""


def test_before_checkpoint_primes_without_the_network(stack: LocalStack, tmp_path: Path) -> None:
    ensure_embedding_model()
    config = cached_config(tmp_path / "config.yaml", "e2e:snapstart")
    nowhere = f"http://127.0.0.1:{free_port()}"  # nothing listens: any connection would fail
    env = {
        **os.environ, **stack.env, "GATEWAY_CONFIG": str(config), "PYTHONPATH": PYTHONPATH,
        "LITELLM_MASTER_KEY": MASTER_KEY, "REDIS_URL": f"redis://127.0.0.1:{free_port()}/0",
        "DYNAMODB_ENDPOINT_URL": nowhere, "LOG_LEVEL": "WARNING",
    }  # fmt: skip
    out, result = _run(HOOKS, env)
    assert (result["primed"], result["restored"]) == (200, 200)
    assert result["litellm"] and result["router_built"] and result["onnxruntime"]
    assert set(result["body"]["primed"]) >= {"stages", "litellm_router", "embedder", "key_store"}
    assert "prime_step_failed" not in out.stdout + out.stderr


KEYS_PRIME = """
import json, sys
from gateway.warmup import prime
from keys_api.app import _build_for_snapshot
timings = prime(_build_for_snapshot)
print(json.dumps({"timings": timings, "redis": "redis" in sys.modules}))
"""


def test_keys_function_primes_without_the_network(stack: LocalStack) -> None:
    env = {
        **os.environ, **stack.env, "PYTHONPATH": PYTHONPATH, "LITELLM_MASTER_KEY": MASTER_KEY,
        "REDIS_URL": f"redis://127.0.0.1:{free_port()}/0",
        "DYNAMODB_ENDPOINT_URL": f"http://127.0.0.1:{free_port()}", "LOG_LEVEL": "WARNING",
    }  # fmt: skip
    out, result = _run(KEYS_PRIME, env)
    assert result["redis"] and set(result["timings"]) >= {"stages", "key_store"}
    assert "prime_step_failed" not in out.stdout + out.stderr


def _run(code: str, env: dict[str, str]) -> tuple[subprocess.CompletedProcess[str], Any]:
    """Run `code` in a fresh interpreter; its last stdout line is JSON."""
    out = subprocess.run(  # noqa: S603 - our own code, fixed arguments
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=180, check=True,
    )  # fmt: skip
    return out, json.loads(out.stdout.strip().splitlines()[-1])
