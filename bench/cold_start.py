"""Cold start of each function: a fresh interpreter imports the handler module, then serves its
first request through the Lambda handler (Mangum + Powertools) with an API Gateway event, on the
local stack (Valkey with vector search, moto, the raw no-delay upstream).

Cases: the completion function's first request as a cache HIT (master key; virtual key) and as a
provider response (cache miss, virtual key: imports litellm), GET /health/liveliness, and the
keys function's POST /key/generate. "What runs at init": `python -X importtime` of each handler
module, summed by top-level package. SnapStart-style readiness: the same first requests after an
init that also does everything that needs no network (import litellm, build the service, load
the embedding model, create the DynamoDB client), i.e. what a before-snapshot hook would run once.

Run: `python -m bench.cold_start [--runs N] [--quick]`. Writes bench/results/cold_start.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml

from bench.overhead import stats
from bench.overhead.loadgen import prompt
from bench.overhead.targets import MASTER_KEY, MODEL, OFFLINE, Upstream, _deployment
from bench.report import verdict_lines
from devstack.stack import ROOT, LocalStack
from tests.integration.stack import PYTHONPATH, write_test_config

RESULTS = ROOT / "bench" / "results"
EVENTS = ROOT / "tests" / "events"
HEAVY = ("litellm", "boto3", "botocore", "onnxruntime", "tokenizers", "numpy", "redis",
         "opentelemetry", "aws_lambda_powertools", "fastapi", "pydantic")  # fmt: skip
PROBE = r"""
import json, sys, time
t0 = time.perf_counter()
spec = json.loads(sys.argv[1])
import importlib
module = importlib.import_module(spec["module"])
t1 = time.perf_counter()
if spec.get("prime"):  # SnapStart: the before-snapshot hook (gateway/warmup.py), no network
    from completion_api.deps import completion_service
    from gateway.warmup import prime
    prime(completion_service)
t2 = time.perf_counter()
event = json.load(open(spec["event"]))
if "body" in spec:
    event["body"] = json.dumps(spec["body"])
if "key" in spec:
    event["headers"]["Authorization"] = "Bearer " + spec["key"]
    event["multiValueHeaders"]["Authorization"] = ["Bearer " + spec["key"]]
class Ctx:
    function_name = "bench"; memory_limit_in_mb = 1024; aws_request_id = "bench"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:bench"
    def get_remaining_time_in_millis(self): return 30000
response = module.handler(event, Ctx())
t3 = time.perf_counter()
headers = {k.lower(): v for k, v in (response.get("headers") or {}).items()}
print(json.dumps({
    "import_s": t1 - t0, "init_s": t2 - t0, "first_request_s": t3 - t2, "first_response_s": t3 - t0,
    "status": response["statusCode"], "cache_status": headers.get("x-cache-status"),
    "modules": {m: m in sys.modules for m in spec["heavy"]},
    "body": response["body"][:4000] if spec.get("want_body") else None,
}))
"""
TARGETS = {
    "keys (POST /key/generate)": 1.0,
    "completion: first request a cache HIT (virtual key)": 1.5,
}


def probe(env: dict[str, str], spec: dict[str, Any]) -> dict[str, Any]:
    out = subprocess.run(  # noqa: S603 - fixed interpreter and probe
        [sys.executable, "-c", PROBE, json.dumps({**spec, "heavy": HEAVY})],
        cwd=ROOT, env=env, capture_output=True, text=True, check=True, timeout=180,
    )  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


def chat(text: str) -> dict[str, Any]:
    return {"model": MODEL, "messages": [{"role": "user", "content": text}]}


def case(env: dict[str, str], runs: int, make_spec: Any, warm: bool) -> dict[str, Any]:
    """`runs` fresh processes (after one unmeasured run that warms the page cache and .pyc
    files, as a reused Lambda sandbox host has them); medians."""
    if warm:
        probe(env, make_spec(-1))
    rows = [probe(env, make_spec(i)) for i in range(runs)]
    return {
        "import_s_median": round(statistics.median(r["import_s"] for r in rows), 3),
        "init_s_median": round(statistics.median(r["init_s"] for r in rows), 3),
        "first_request_s_median": round(statistics.median(r["first_request_s"] for r in rows), 3),
        "first_response_s_median": round(statistics.median(r["first_response_s"] for r in rows), 3),
        "first_response_s_max": round(max(r["first_response_s"] for r in rows), 3),
        "status": sorted({r["status"] for r in rows}),
        "cache_status": sorted({str(r["cache_status"]) for r in rows}),
        "imported": {m: any(r["modules"][m] for r in rows) for m in HEAVY},
        "runs": runs,
        "last_body": rows[-1]["body"],
    }


def import_breakdown(env: dict[str, str], module: str, top: int = 12) -> list[dict[str, Any]]:
    """`python -X importtime -c 'import MODULE'`: self time summed by top-level package."""
    out = subprocess.run(  # noqa: S603 - fixed interpreter
        [sys.executable, "-X", "importtime", "-c", f"import {module}"],
        cwd=ROOT, env=env, capture_output=True, text=True, check=True, timeout=120,
    )  # fmt: skip
    totals: dict[str, int] = {}
    for line in out.stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_us, _cumulative, name = (part.strip() for part in line[12:].split("|"))
        package = name.split(".")[0]
        totals[package] = totals.get(package, 0) + int(self_us)
    ranked = sorted(totals.items(), key=lambda kv: kv[1], reverse=True)
    return [{"package": name, "self_ms": round(us / 1000, 1)} for name, us in ranked[:top]]


def measure(runs: int, warm: bool, workdir: Path) -> dict[str, Any]:
    with LocalStack({"LITELLM_MASTER_KEY": MASTER_KEY}) as stack:
        upstream = Upstream("raw", workdir).start()
        try:
            config = write_test_config(workdir / "config.yaml", [_deployment(upstream)], cache=True)
            data = yaml.safe_load(config.read_text())
            data["litellm_settings"]["cache_params"]["namespace"] = "bench:cold"
            config.write_text(yaml.safe_dump(data))
            env = {
                "PATH": os.environ.get("PATH", "/usr/bin:/bin"), **stack.env, **OFFLINE,
                "GATEWAY_CONFIG": str(config), "PYTHONPATH": PYTHONPATH,
                "POWERTOOLS_METRICS_NAMESPACE": "bench", "METRICS_EMF": "true",
                "TELEMETRY_FLUSH_EACH_REQUEST": "true",
            }  # fmt: skip
            return run_cases(env, runs, warm)
        finally:
            upstream.stop()


def run_cases(env: dict[str, str], runs: int, warm: bool) -> dict[str, Any]:
    completion = {"module": "completion_api.app", "event": str(EVENTS / "chat_completions.json")}
    key_settings = {"team_id": "cold-team", "max_budget": 1_000_000.0, "rpm_limit": 1_000_000}
    results: dict[str, Any] = {}
    results["keys (POST /key/generate)"] = case(env, runs, lambda i: {
        "module": "keys_api.app", "event": str(EVENTS / "key_generate.json"),
        "body": {**key_settings, "key_alias": f"cold-{i}"}, "key": MASTER_KEY, "want_body": True,
    }, warm)  # fmt: skip
    key = json.loads(results["keys (POST /key/generate)"].pop("last_body"))["key"]
    hit_prompt = "What is the boiling point of water at sea level?"
    for who in (MASTER_KEY, key):  # store the answer in each tenant's partition
        probe(env, {**completion, "body": chat(hit_prompt), "key": who})
    results["completion (GET /health/liveliness)"] = case(env, runs, lambda i: {
        "module": "completion_api.app", "event": str(EVENTS / "health_liveliness.json"),
    }, warm)  # fmt: skip
    for label, who in (("master key", MASTER_KEY), ("virtual key", key)):
        results[f"completion: first request a cache HIT ({label})"] = case(
            env, runs, lambda i, who=who: {**completion, "body": chat(hit_prompt), "key": who}, warm
        )
    results["completion: first request a provider response (virtual key)"] = case(
        env, runs, lambda i: {**completion, "body": chat(prompt("cold", i)), "key": key}, warm
    )
    snap = {}
    for label, text in (("cache HIT", lambda i: hit_prompt), ("provider", lambda i: None)):
        snap[f"first request a {label} (virtual key), after a primed init"] = case(
            env, runs, lambda i, text=text: {
                **completion, "prime": True, "key": key,
                "body": chat(text(i) or prompt("snap", i)),
            }, warm,
        )  # fmt: skip
    for row in [*results.values(), *snap.values()]:
        row.pop("last_body", None)
    return {
        "cases": results,
        "snapstart_style": snap,
        "init_imports": {
            "completion_api.app": import_breakdown(env, "completion_api.app"),
            "keys_api.app": import_breakdown(env, "keys_api.app"),
        },
    }


def verdicts(cases: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for name, limit in TARGETS.items():
        value = cases[name]["first_response_s_median"]
        out.append({"what": f"cold start to first response: {name}", "measured": value,
                    "target": f"<= {limit} s", "pass": value <= limit})  # fmt: skip
    hit = cases["completion: first request a cache HIT (virtual key)"]
    out.append({"what": "litellm imported on the cold cache-hit path",
                "measured": hit["imported"]["litellm"], "target": "False",
                "pass": not hit["imported"]["litellm"]})  # fmt: skip
    return out


def markdown(report: dict[str, Any]) -> str:
    lines = [
        "# Cold start (bench/cold_start.py)",
        "",
        f"Fresh interpreter per run, median of {report['runs']} (after a page-cache warm-up); "
        f"seconds. {report['uptime']}.",
        "",
        "| case | import | init | first request | first response | status | cache | "
        "litellm / boto3 / onnxruntime imported |",
        "|---|---|---|---|---|---|---|---|",
    ]
    rows = {
        **report["cases"],
        **{f"SnapStart-style: {k}": v for k, v in report["snapstart_style"].items()},
    }
    for name, r in rows.items():
        imported = " / ".join(str(r["imported"][m]) for m in ("litellm", "boto3", "onnxruntime"))
        lines.append(
            f"| {name} | {r['import_s_median']} | {r['init_s_median']} | "
            f"{r['first_request_s_median']} | {r['first_response_s_median']} | "
            f"{r['status']} | {', '.join(r['cache_status'])} | {imported} |"
        )
    lines += verdict_lines(report["verdicts"])
    lines += ["", "What runs at init (import of the handler module, self time by package, ms):", ""]
    for module, ranked in report["init_imports"].items():
        top = ", ".join(f"{r['package']} {r['self_ms']}" for r in ranked)
        lines.append(f"- `{module}`: {top}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="one run per case, no warm-up")
    parser.add_argument("--results-dir", type=Path, default=RESULTS)
    parser.add_argument("--no-report", action="store_true", help="skip bench.report")
    args = parser.parse_args(argv)
    runs = 1 if args.quick else args.runs
    with tempfile.TemporaryDirectory(prefix="bench-cold-") as tmp:
        found = measure(runs, not args.quick, Path(tmp))
    report = {"bench": "cold_start", "machine": stats.machine(), "runs": runs,
              "uptime": stats.uptime(), **found}  # fmt: skip
    report["verdicts"] = verdicts(report["cases"])
    from bench.report import write_results

    write_results(args.results_dir, "cold_start", report, markdown(report), not args.no_report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
