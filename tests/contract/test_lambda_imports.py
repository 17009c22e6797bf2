"""Each function imports and answers with only what its Lambda artifact ships.

A fresh interpreter refuses any third-party module that is not in the function's locks
(its own + the shared layer's, plus boto3/botocore/s3transfer/jmespath/dateutil/urllib3/six
from the Lambda runtime), then imports the handler and serves an API Gateway event. This catches
a shared-layer module that starts importing a package only the completion function carries
(litellm, opentelemetry, onnxruntime) before a deploy does.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from scripts.check_locks import requirements

ROOT = Path(__file__).resolve().parents[2]
RUNTIME_PROVIDED = {
    "boto3",
    "botocore",
    "s3transfer",
    "jmespath",
    "python-dateutil",
    "urllib3",
    "six",
}
LOCKS = {
    "keys": [ROOT / "layers/llmlingua/requirements.txt"],
    "spend_flush": [ROOT / "layers/llmlingua/requirements.txt"],
    "completion": [
        ROOT / "layers/llmlingua/requirements.txt",
        ROOT / "functions/completion/requirements.txt",
    ],
}
GUARD = r"""
import importlib.abc, importlib.metadata as md, json, sys
allowed_dists = set(json.loads(sys.argv[1]))
owners = md.packages_distributions()
class Refuse(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        top = name.split(".")[0]
        dists = {d.lower().replace("_", "-") for d in owners.get(top, [])}
        if dists and not dists & allowed_dists:
            raise ModuleNotFoundError(f"{top} ({sorted(dists)}) is not shipped with this function")
        return None
sys.meta_path.insert(0, Refuse())
import importlib
module = importlib.import_module(sys.argv[2])
if sys.argv[3].endswith("import-only"):  # a scheduled function: importing is the check
    print(200); sys.exit(0)
event = json.load(open(sys.argv[3]))
class Ctx:
    function_name = "contract"; memory_limit_in_mb = 512; aws_request_id = "contract"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:contract"
    def get_remaining_time_in_millis(self): return 30000
print(module.handler(event, Ctx())["statusCode"])
"""


def _allowed(function: str) -> list[str]:
    names = {name.split("[")[0] for lock in LOCKS[function] for name, *_ in requirements(lock)}
    return sorted(n.replace("_", "-") for n in names | RUNTIME_PROVIDED)


@pytest.mark.parametrize(
    ("function", "module", "event", "status"),
    [
        ("keys", "keys_api.app", "key_generate.json", {503}),  # no DynamoDB: a clean 503
        ("completion", "completion_api.app", "models.json", {200}),
        ("spend_flush", "spend_flush_app.app", "import-only", {200}),  # shared layer only
        ("completion", "completion_api.app", "health_liveliness.json", {200}),
        # builds every stage (metrics, keys, cache, compression) and refuses the model
        ("completion", "completion_api.app", "chat_completions_unknown_model.json", {404}),
    ],
)
def test_handler_runs_with_only_its_artifacts_packages(
    function: str, module: str, event: str, status: set[int]
) -> None:
    env = {
        **os.environ,
        "LITELLM_MASTER_KEY": "sk-test-master-key-0123456789",
        # Nothing listens there: the handlers must answer without reaching any real service.
        "DYNAMODB_ENDPOINT_URL": "http://127.0.0.1:9",
        "REDIS_URL": "redis://127.0.0.1:9/0",
        "AWS_ACCESS_KEY_ID": "contract",
        "AWS_SECRET_ACCESS_KEY": "contract",
        "PYTHONPATH": os.pathsep.join(
            str(ROOT / p)
            for p in (
                "layers/llmlingua",
                "functions/completion",
                "functions/keys",
                "functions/spend_flush",
            )
        ),
    }
    result = subprocess.run(  # noqa: S603 - our interpreter and fixed code
        [sys.executable, "-c", GUARD, json.dumps(_allowed(function)), module,
         str(ROOT / "tests/events" / event)],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert int(result.stdout.strip().splitlines()[-1]) in status
