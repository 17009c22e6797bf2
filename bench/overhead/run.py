"""Gateway overhead: the same chat completions against (a) the upstream directly, (b) this gateway
with a virtual key (keys, limits, spend, metrics, cache miss), (c) the LiteLLM proxy (master key,
no DB), at concurrency 1, 8 and 32, all in one run on this machine. Added latency = a target's
percentile minus the upstream's at the same concurrency in the same repetition; the median over
repetitions is reported, with throughput and the ratio to the LiteLLM proxy's added latency.

Run: `python -m bench.overhead.run [--quick] [--targets direct,gateway,litellm]`
Writes bench/results/overhead.{json,md} (or --results-dir). See docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.overhead import stats
from bench.overhead.targets import MASTER_KEY, MODEL, Gateway, LiteLLMProxy, Upstream
from bench.report import verdict_lines
from devstack.stack import ROOT
from tests.integration.stack import PYTHONPATH

RESULTS = ROOT / "bench" / "results"
ALL_TARGETS = ("direct", "gateway", "gateway_master", "gateway_exact", "litellm")
LABELS = {
    "direct": "upstream directly",
    "gateway": "this gateway (virtual key, limits, metrics, cache miss)",
    "gateway_master": "this gateway (master key: no key/limit/spend work)",
    "gateway_exact": "this gateway (virtual key, exact-tier cache only: `type: redis`)",
    "litellm": "LiteLLM proxy 1.110.2 (master key, no DB)",
}
TARGET_P50_MS, TARGET_P99_MS, TARGET_RATIO = 3.0, 15.0, 3.0


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: few requests, 1 rep")
    parser.add_argument("--targets", default=",".join(ALL_TARGETS))
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8, 32])
    parser.add_argument("--requests", type=int, default=300, help="measured requests per run")
    parser.add_argument("--requests-c1", type=int, default=200, help="the same at c=1")
    parser.add_argument("--warmup", type=int, default=40)
    parser.add_argument("--reps", type=int, default=3, help="repetitions (median reported)")
    parser.add_argument(
        "--master-at",
        type=int,
        nargs="*",
        default=[1],
        help="concurrency levels at which gateway_master also runs",
    )
    parser.add_argument(
        "--exact-at",
        type=int,
        nargs="*",
        default=[1],
        help="concurrency levels at which gateway_exact (no semantic tier) also runs",
    )
    parser.add_argument("--upstream", choices=("raw", "fake"), default="raw")
    parser.add_argument("--calibrate", type=int, default=200, help="0: skip raw-vs-fake check")
    parser.add_argument("--run-time-limit", type=float, default=90.0)
    parser.add_argument("--max-foreign-cpu", type=float, default=0.5)
    parser.add_argument("--retries", type=int, default=1, help="re-runs of a contended run")
    parser.add_argument("--retry-budget", type=int, default=6, help="re-runs in all, at most")
    parser.add_argument("--wait-quiet", type=float, default=90.0, help="max s to wait at start")
    parser.add_argument("--results-dir", type=Path, default=RESULTS)
    parser.add_argument("--no-report", action="store_true", help="skip bench.report")
    args = parser.parse_args(argv)
    if args.quick:
        args.concurrency = [c for c in args.concurrency if c <= 8] or [1]
        args.requests = min(args.requests, 30)
        args.requests_c1 = min(args.requests_c1, args.requests)
        args.warmup, args.reps = 5, 1
        args.calibrate, args.retries, args.wait_quiet = 0, 0, 0.0
    args.targets = [t for t in args.targets.split(",") if t]
    unknown = set(args.targets) - set(ALL_TARGETS)
    if unknown or "direct" not in args.targets:
        parser.error(f"targets: 'direct' plus any of {ALL_TARGETS} (unknown: {sorted(unknown)})")
    return args


def load(url: str, key: str, concurrency: int, requests: int, warmup: int, tag: str,
         time_limit: float) -> dict[str, Any]:  # fmt: skip
    """One bounded load run in a fresh loadgen process; its result plus the CPU window."""
    command = [
        sys.executable, "-m", "bench.overhead.loadgen", "--url", url, "--key", key,
        "--model", MODEL, "--concurrency", str(concurrency), "--requests", str(requests),
        "--warmup", str(warmup), "--tag", tag, "--time-limit", str(time_limit),
    ]  # fmt: skip
    window = stats.CpuWindow().start()
    roles = stats.cpu_by_role()
    out = subprocess.run(  # noqa: S603 - our own module
        command,
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": PYTHONPATH},
        capture_output=True,
        text=True,
        timeout=time_limit + 60,
        check=True,
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result["cpu"] = window.stop()
    result["cpu_ms_per_request"] = stats.cpu_ms_per_request(
        roles, stats.cpu_by_role(), warmup + requests
    )
    result["uptime"] = stats.uptime()
    return result


def measured(result: dict[str, Any]) -> dict[str, Any]:
    lat = result.pop("latencies_s")
    ok = result["statuses"].get("200", 0)
    return {
        **stats.summary_ms(lat),
        "throughput_rps": round(result["completed"] / result["wall_s"], 1)
        if result["wall_s"]
        else 0.0,
        "ok": ok,
        **{k: result[k] for k in ("completed", "timed_out", "statuses", "cache_status", "cpu")},
        "cpu_ms_per_request": result["cpu_ms_per_request"],
        "uptime": result["uptime"],
    }


def calibrate(workdir: Path, requests: int) -> dict[str, Any]:
    """The upstream's own latency seen by the load generator: raw asyncio vs the FastAPI fake."""
    found = {}
    for kind in ("raw", "fake"):
        upstream = Upstream(kind, workdir).start()
        try:
            result = load(upstream.chat_url, "sk-x", 1, requests, 30, f"cal-{kind}", 60)
            found[kind] = measured(result)
        finally:
            upstream.stop()
    return found


def run_matrix(
    args: argparse.Namespace, urls: dict[str, tuple[str, str]], resets: dict[str, Any]
) -> list[dict[str, Any]]:
    runs, budget = [], args.retry_budget
    for rep in range(args.reps):
        for concurrency in args.concurrency:
            requests = args.requests if concurrency > 1 else args.requests_c1
            for target in args.targets:
                if target == "gateway_master" and concurrency not in args.master_at:
                    continue  # a diagnostic (what keys and limits cost), not a comparison
                if target == "gateway_exact" and concurrency not in args.exact_at:
                    continue  # a diagnostic (what the semantic tier costs a miss)
                url, key = urls[target]
                for attempt in range(args.retries + 1):
                    tag = f"{target}-r{rep}-c{concurrency}-a{attempt}"
                    if target in resets:
                        resets[target]()
                    row = measured(
                        load(
                            url, key, concurrency, requests, args.warmup, tag, args.run_time_limit
                        )  # fmt: skip
                    )
                    row.update(target=target, concurrency=concurrency, rep=rep, attempt=attempt)
                    contended = row["cpu"]["foreign_cpu"] > args.max_foreign_cpu
                    row["contended"] = contended
                    print(
                        f"rep {rep} c={concurrency:<2} {target:<14} p50 {row.get('p50_ms')} "
                        f"p99 {row.get('p99_ms')} ms, {row['throughput_rps']} rps, "
                        f"foreign cpu {row['cpu']['foreign_cpu']}, {row['uptime']}",
                        flush=True,
                    )
                    runs.append(row)
                    if not contended or budget <= 0:
                        break
                    budget -= 1
    return runs


def aggregate(args: argparse.Namespace, runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Per target and concurrency: medians over repetitions (last attempt of each) of the
    percentiles, throughput and added latency (minus direct in the same repetition)."""
    final = {(r["target"], r["concurrency"], r["rep"]): r for r in runs}  # last attempt wins
    table: dict[str, dict[str, Any]] = {}
    for concurrency in args.concurrency:
        for target in args.targets:
            rows = [
                final[k] for rep in range(args.reps) if (k := (target, concurrency, rep)) in final
            ]
            if not rows:
                continue
            cell: dict[str, Any] = {
                key: stats.median_of(rows, key) for key in ("p50_ms", "p95_ms", "p99_ms")
            }
            cell["throughput_rps"] = stats.median_of(rows, "throughput_rps")
            cell["errors"] = sum(r["completed"] - r["ok"] for r in rows)
            cell["contended_runs"] = sum(bool(r["contended"]) for r in rows)
            cell["cache_status"] = _merged([r["cache_status"] for r in rows])
            roles = {role for r in rows for role in r["cpu_ms_per_request"]}
            cell["cpu_ms_per_request"] = {
                role: round(
                    statistics.median(r["cpu_ms_per_request"].get(role, 0) for r in rows), 2
                )
                for role in sorted(roles)
            }
            if target != "direct":
                for q in ("p50", "p95", "p99"):
                    added = [
                        r[f"{q}_ms"] - final[("direct", concurrency, r["rep"])][f"{q}_ms"]
                        for r in rows
                    ]
                    cell[f"added_{q}_ms"] = round(statistics.median(added), 3)
            table[f"{target}@{concurrency}"] = cell
        litellm = table.get(f"litellm@{concurrency}")
        for ours_name in ("gateway", "gateway_exact"):
            gateway = table.get(f"{ours_name}@{concurrency}")
            if not (gateway and litellm):
                continue
            for q in ("p50", "p95", "p99"):
                ours, theirs = gateway[f"added_{q}_ms"], litellm[f"added_{q}_ms"]
                gateway[f"litellm_ratio_{q}"] = round(theirs / ours, 2) if ours > 0 else None
    return table


def _merged(counts: list[dict[str, int]]) -> dict[str, int]:
    total: dict[str, int] = {}
    for count in counts:
        for key, value in count.items():
            total[key] = total.get(key, 0) + value
    return total


def verdicts(args: argparse.Namespace, table: dict[str, Any]) -> list[dict[str, Any]]:
    """The issue's targets next to the measured figures."""
    out = []
    c1 = table.get("gateway@1")
    if c1:
        out.append(
            _at_most("added latency, cache miss, c=1, p50", c1["added_p50_ms"], TARGET_P50_MS)
        )
        out.append(
            _at_most("added latency, cache miss, c=1, p99", c1["added_p99_ms"], TARGET_P99_MS)
        )
    diagnostics = {
        "gateway_master": "the master key (no key lookup, limits, spend)",
        "gateway_exact": "the exact tier only (`type: redis`, virtual key)",
    }
    for name, what in diagnostics.items():
        cell = table.get(f"{name}@1")
        if cell:
            out.append(
                _at_most(
                    f"diagnostic: the same p50 with {what}", cell["added_p50_ms"], TARGET_P50_MS
                )
            )
    for name, label in (("gateway", ""), ("gateway_exact", "diagnostic, exact tier only: ")):
        for concurrency in args.concurrency:
            cell = table.get(f"{name}@{concurrency}") or {}
            ratio = cell.get("litellm_ratio_p50")
            if "litellm_ratio_p50" in cell:
                out.append(
                    _verdict(
                        f"{label}LiteLLM's added p50 / ours, c={concurrency}",
                        ratio,
                        f">= {TARGET_RATIO}x",
                        ratio is not None and ratio >= TARGET_RATIO,
                    )
                )
    return out


def _at_most(what: str, value: float, limit: float) -> dict[str, Any]:
    return _verdict(what, value, f"<= {limit} ms", value <= limit)


def _verdict(what: str, value: Any, target: str, passed: bool) -> dict[str, Any]:
    return {"what": what, "measured": value, "target": target, "pass": bool(passed)}


def markdown(report: dict[str, Any]) -> str:
    lines = [
        "# Gateway overhead (bench/overhead)",
        "",
        f"Machine: {report['machine']['cpu']}, {report['machine']['cores']} cores, Python "
        f"{report['machine']['python']}. Upstream: {report['upstream']} (no delay). "
        f"{report['settings']['reps']} repetition(s), medians shown. At start: "
        f"{report['uptime_at_start']}; at end: {report['uptime_at_end']}.",
        "",
        "| target | c | p50 ms | p95 ms | p99 ms | added p50 | added p95 | added p99 | rps "
        "| LiteLLM÷ours (p50/p99) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, cell in report["table"].items():
        target, concurrency = name.split("@")
        ratio = "-"
        if cell.get("litellm_ratio_p50") is not None:
            ratio = f"{cell['litellm_ratio_p50']}x / {cell.get('litellm_ratio_p99')}x"
        lines.append(
            f"| {LABELS[target]} | {concurrency} | {cell['p50_ms']} | {cell['p95_ms']} "
            f"| {cell['p99_ms']} | {cell.get('added_p50_ms', '-')} "
            f"| {cell.get('added_p95_ms', '-')} | {cell.get('added_p99_ms', '-')} "
            f"| {cell['throughput_rps']} | {ratio} |"
        )
    lines += ["", "CPU ms per request by process (all servers share the 2 cores; moto and Valkey "
              "stand in for DynamoDB and ElastiCache):", ""]  # fmt: skip
    roles = sorted({r for cell in report["table"].values() for r in cell["cpu_ms_per_request"]})
    lines += ["| target | c | " + " | ".join(roles) + " | cache status |",
              "|---|---|" + "---|" * (len(roles) + 1)]  # fmt: skip
    for name, cell in report["table"].items():
        target, concurrency = name.split("@")
        cpu = cell["cpu_ms_per_request"]
        lines.append(f"| {target} | {concurrency} | "
                     + " | ".join(str(cpu.get(r, "-")) for r in roles)
                     + f" | {cell['cache_status']} |")  # fmt: skip
    lines += verdict_lines(report["verdicts"])
    if report.get("calibration"):
        lines += ["", "Upstream calibration (direct, c=1): "]
        for kind, row in report["calibration"].items():
            lines.append(f"- {kind}: p50 {row['p50_ms']} ms, p99 {row['p99_ms']} ms")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    report: dict[str, Any] = {"bench": "overhead", "machine": stats.machine()}
    report["quiet_wait"] = (
        stats.wait_for_quiet(args.max_foreign_cpu, 1.5, args.wait_quiet) if args.wait_quiet else {}
    )
    report["uptime_at_start"] = stats.uptime()
    if "litellm" in args.targets and not LiteLLMProxy.available():
        print("overhead: no .venv-litellm-proxy (make litellm-proxy-venv); LiteLLM skipped")
        args.targets.remove("litellm")
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="bench-overhead-") as tmp:
        workdir = Path(tmp)
        if args.calibrate:
            report["calibration"] = calibrate(workdir, args.calibrate)
        upstream = Upstream(args.upstream, workdir).start()
        servers: list[Any] = [upstream]
        try:
            urls = {"direct": (upstream.chat_url, "sk-x")}
            resets: dict[str, Any] = {}
            if {"gateway", "gateway_master"} & set(args.targets):
                gateway = Gateway(upstream, workdir).start()
                servers.append(gateway)
                urls["gateway"] = (gateway.chat_url, gateway.key)
                urls["gateway_master"] = (gateway.chat_url, MASTER_KEY)
                resets["gateway"] = resets["gateway_master"] = gateway.reset
                if "gateway_exact" in args.targets:
                    exact = Gateway(
                        upstream, workdir, "bench:overhead-exact", cache_type="redis",
                        stack=gateway.stack,
                    ).start()  # fmt: skip
                    servers.append(exact)
                    urls["gateway_exact"] = (exact.chat_url, exact.key)
                    resets["gateway_exact"] = exact.reset
            if "litellm" in args.targets:
                proxy = LiteLLMProxy(upstream, workdir).start()
                servers.append(proxy)
                urls["litellm"] = (proxy.chat_url, proxy.key)
            for target in args.targets:  # first calls: imports (litellm), model loads
                load(*urls[target], 1, 1, 20 if args.quick else 60, f"prime-{target}", 120)
            runs = run_matrix(args, urls, resets)
        finally:
            for server in reversed(servers):
                server.stop()
    report.update(
        upstream=args.upstream,
        settings={k: v for k, v in vars(args).items() if k != "results_dir"},
        runs=runs,
        table=aggregate(args, runs),
        uptime_at_end=stats.uptime(),
        wall_s=round(time.monotonic() - started, 1),
    )
    report["verdicts"] = verdicts(args, report["table"])
    from bench.report import write_results

    write_results(args.results_dir, "overhead", report, markdown(report), not args.no_report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
