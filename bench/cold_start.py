"""Cold start of each handler: a fresh interpreter importing the handler module, then serving
its first request through the Lambda handler with an API Gateway event (no provider call).

Run: `python -m bench.cold_start [--runs N]`. Writes bench/results/cold_start.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
PYTHONPATH = os.pathsep.join(
    str(ROOT / p) for p in ("layers/llmlingua", "functions/completion", "functions/keys", "")
)
PROBE = r"""
import json, sys, time
t0 = time.perf_counter()
import importlib
module = importlib.import_module(sys.argv[1])
t1 = time.perf_counter()
event = json.load(open(sys.argv[2]))
class Ctx:
    function_name = "bench"; memory_limit_in_mb = 1024; aws_request_id = "bench"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:bench"
    def get_remaining_time_in_millis(self): return 30000
response = module.handler(event, Ctx())
t2 = time.perf_counter()
print(json.dumps({"import_s": t1 - t0, "first_response_s": t2 - t0,
                  "status": response["statusCode"], "litellm_imported": "litellm" in sys.modules}))
"""
CASES = {
    "completion (GET /health/liveliness)": ("completion_api.app", "health_liveliness.json"),
    "keys (POST /key/generate)": ("keys_api.app", "key_generate.json"),
}


def measure(module: str, event: str) -> dict[str, object]:
    env = {
        **os.environ,
        "PYTHONPATH": PYTHONPATH,
        "PYTHONDONTWRITEBYTECODE": "0",
        "LITELLM_MASTER_KEY": "sk-test-master-key-0123456789",
        "POWERTOOLS_METRICS_NAMESPACE": "bench",
    }
    out = subprocess.run(  # noqa: S603 - fixed interpreter and probe
        [sys.executable, "-c", PROBE, module, str(ROOT / "tests" / "events" / event)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    results = {}
    for name, (module, event) in CASES.items():
        measure(module, event)  # warm the OS page cache and .pyc files, as a reused sandbox is
        runs = [measure(module, event) for _ in range(args.runs)]
        results[name] = {
            "import_s_median": statistics.median(r["import_s"] for r in runs),
            "first_response_s_median": statistics.median(r["first_response_s"] for r in runs),
            "status": runs[0]["status"],
            "litellm_imported": any(r["litellm_imported"] for r in runs),
            "runs": args.runs,
        }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "cold_start.json").write_text(json.dumps(results, indent=2) + "\n")
    lines = [
        "| handler | import (s, median) | first response (s, median) | litellm imported |",
        "|---|---|---|---|",
    ]
    for name, r in results.items():
        lines.append(
            f"| {name} | {r['import_s_median']:.3f} | {r['first_response_s_median']:.3f} "
            f"| {r['litellm_imported']} |"
        )
    (RESULTS / "cold_start.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
