"""Collect every bench's results into bench/results/SUMMARY.md and PNG charts.

Reads bench/results/*.json (overhead, handler_time, cold_start from this suite; any other
bench's JSON is linked), bench/cache/results/latency.json and bench/compression/results/
compression.json when present, and the package sizes of the last `sam build` (.aws-sam/build,
via scripts/size_report.py; nothing is built here). Each issue-7 target is written next to its
measured figure with PASS/FAIL. Charts need matplotlib (requirements/dev.in); without it the
summary is written alone.

Run: `python -m bench.report` (the last step of `make bench`).
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from devstack.cfn import load_template
from devstack.stack import ROOT

RESULTS = ROOT / "bench" / "results"
BUILD = ROOT / ".aws-sam" / "build"
OURS = ("overhead", "handler_time", "cold_start", "package_size")
MB = 1024 * 1024


def verdict_lines(verdicts: list[dict[str, Any]]) -> list[str]:
    """A bench's targets as a Markdown table (blank line first), for its own `<name>.md`."""
    lines = ["", "| target (issue 7) | measured | target | result |", "|---|---|---|---|"]
    for v in verdicts:
        result = "PASS" if v["pass"] else "FAIL"
        lines.append(f"| {v['what']} | {v['measured']} | {v['target']} | {result} |")
    return lines


def write_results(
    results_dir: Path, name: str, report: dict[str, Any], text: str, summary: bool = True
) -> None:
    """A bench's `<name>.json` and `<name>.md`, printed, then SUMMARY.md refreshed."""
    results_dir.mkdir(parents=True, exist_ok=True)
    (results_dir / f"{name}.json").write_text(json.dumps(report, indent=2) + "\n")
    (results_dir / f"{name}.md").write_text(text)
    print(text)
    if summary:
        main([str(results_dir)])


def _load(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def package_sizes(build: Path = BUILD) -> dict[str, Any] | None:
    """Unzipped function + layers per zip function of the last `sam build` (size_report)."""
    if not (build / "template.yaml").is_file():
        return None
    from scripts.size_report import FUNCTION_TYPES, TARGET_MB, function_parts

    template = load_template(build / "template.yaml")
    built = dt.datetime.fromtimestamp((build / "template.yaml").stat().st_mtime, dt.UTC)
    functions: dict[str, dict[str, Any]] = {}
    for lid, res in (template.get("Resources") or {}).items():
        props = res.get("Properties") or {}
        if res.get("Type") not in FUNCTION_TYPES or props.get("PackageType") == "Image":
            continue
        parts = function_parts(build, template, lid)
        total_mb: float = round(sum(p.size for p in parts) / MB, 1)
        functions[lid] = {
            "total_mb": total_mb,
            "parts": {p.name: (round(p.size / MB, 1) if p.path else "external") for p in parts},
        }
    verdicts = [
        {"what": f"{lid} + layers, unzipped", "measured": f["total_mb"],
         "target": f"<= {TARGET_MB} MB", "pass": f["total_mb"] <= TARGET_MB}
        for lid, f in functions.items()
    ]  # fmt: skip
    return {"bench": "package_size", "built_at": built.isoformat(timespec="seconds"),
            "functions": functions, "verdicts": verdicts}  # fmt: skip


def _table(header: list[str], rows: list[list[Any]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return out + ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]


def _verdict_rows(name: str, report: dict[str, Any] | None) -> list[list[Any]]:
    if not report:
        return [[f"({name}: not run)", "-", "-", "-", "-"]]
    return [
        [v["what"], v["measured"], v["target"], "PASS" if v["pass"] else "**FAIL**", name]
        for v in report.get("verdicts", [])
    ]


def _overhead(report: dict[str, Any]) -> list[str]:
    rows = []
    for name, c in report["table"].items():
        target, conc = name.split("@")
        ratio = c.get("litellm_ratio_p50")
        rows.append([target, conc, c["p50_ms"], c["p99_ms"], c.get("added_p50_ms", "-"),
                     c.get("added_p95_ms", "-"), c.get("added_p99_ms", "-"),
                     c["throughput_rps"], f"{ratio}x" if ratio else "-"])  # fmt: skip
    header = ["target", "c", "p50", "p99", "added p50", "added p95", "added p99", "rps",
              "LiteLLM÷ours p50"]  # fmt: skip
    settings = report["settings"]
    note = (f"Upstream: {report['upstream']}, {settings['reps']} repetitions (median), "
            f"{settings.get('requests_c1', '?')} requests per run at c=1 and "
            f"{settings['requests']} above; start "
            f"{report['uptime_at_start']}, end {report['uptime_at_end']}. ms.")  # fmt: skip
    roles = ["gateway", "litellm proxy", "moto", "valkey", "upstream"]
    cpu = [[name.replace("@", " c="), *(c.get("cpu_ms_per_request", {}).get(r, "-")
            for r in roles), c.get("contended_runs", "-")]
           for name, c in report["table"].items() if not name.startswith("direct")]  # fmt: skip
    return [note, "", *_table(header, rows), "", "![overhead](overhead.png)", "",
            "CPU ms per request by process (moto stands in for DynamoDB, Valkey for "
            "ElastiCache; runs with > 0.5 foreign cores counted as contended):", "",
            *_table(["target", *roles, "contended runs"], cpu)]  # fmt: skip


def _handler(report: dict[str, Any]) -> list[str]:
    rows = []
    for level in report["levels"]:
        for kind, h in level["handler"].items():
            s = level["cache_stage"].get(kind, {})
            rows.append([f"{level['entries']:,}", kind, h.get("p50_ms"), h.get("p95_ms"),
                         s.get("p50_ms", "-"), s.get("p95_ms", "-"), level["uptime"]])  # fmt: skip
    header = ["entries", "path", "handler p50", "handler p95", "cache stage p50",
              "cache stage p95", "load"]  # fmt: skip
    lines = [*_table(header, rows), "", "![handler time](handler_time.png)"]
    top = report["levels"][-1].get("breakdown") or {}
    if top:
        lines += ["", f"Where the time goes ({report['levels'][-1]['entries']:,} entries, "
                  "virtual key, p50 ms of each timed part):", ""]  # fmt: skip
        parts = sorted({p for k in top.values() for p in k["parts"]})
        body = [[p, *(top[k]["parts"].get(p, {}).get("p50_ms", "-") for k in top)] for p in parts]
        body.append(["handler total", *(top[k]["handler_total"]["p50_ms"] for k in top)])
        lines += _table(["part", *top], body)
    return lines


def _cold(report: dict[str, Any]) -> list[str]:
    cases = {**report["cases"], **{f"SnapStart-style: {k}": v
                                   for k, v in report["snapstart_style"].items()}}  # fmt: skip
    rows = [[name, r["import_s_median"], r["init_s_median"], r["first_request_s_median"],
             r["first_response_s_median"], r["imported"]["litellm"]]
            for name, r in cases.items()]  # fmt: skip
    lines = _table(["case", "import s", "init s", "first request s", "first response s",
                    "litellm"], rows)  # fmt: skip
    lines += ["", "What runs at init (self ms by package):", ""]
    for module, ranked in report["init_imports"].items():
        lines.append(
            f"- `{module}`: " + ", ".join(f"{r['package']} {r['self_ms']}" for r in ranked)
        )
    return [*lines, "", "![cold start](cold_start.png)"]


def _cache_bench(report: dict[str, Any]) -> list[str]:
    rows = [[r["mode"], f"{r['entries']:,}", *(f"{r[k]['p50_ms']} / {r[k]['p95_ms']}"
             if k in r else "-" for k in ("exact_hit", "semantic_hit", "miss"))]
            for r in report.get("in_process", [])]  # fmt: skip
    return ["From bench/cache/latency.py (`make bench-cache`), CacheStage.before, master key, "
            "p50 / p95 ms:", "", *_table(["mode", "entries", "exact hit", "semantic hit", "miss"],
                                         rows)]  # fmt: skip


def _compression(report: dict[str, Any]) -> list[str]:
    return [
        f"From bench/compression (`make bench-compression`; {report.get('label', '')}): "
        f"median {report['median_ms_per_1k_tokens']:,.0f} ms per 1k tokens as measured, "
        f"{report['undisturbed_ms_per_1k_tokens']:,.0f} ms per 1k estimated undisturbed (CPU "
        f"time / {report['machine'].get('torch_threads')} threads); load at end "
        f"{report.get('load_average_1m_at_end', 0):.1f}. Details: "
        "[compression.md](../compression/results/compression.md)."
    ]


def _sizes(report: dict[str, Any]) -> list[str]:
    rows = [[lid, f["total_mb"], ", ".join(f"{k} {v}" for k, v in f["parts"].items())]
            for lid, f in report["functions"].items()]  # fmt: skip
    return [f"From the last `sam build` ({report['built_at']}; `make build` then `make size`). "
            "External layers (Lambda Web Adapter, an ARN) are not in the build and not counted.",
            "", *_table(["function", "MB unzipped", "parts (MB)"], rows)]  # fmt: skip


def _git(*args: str) -> str:
    out = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=True)  # noqa: S603,S607
    return out.stdout.strip()


def _revision() -> str:
    try:
        head, dirty = _git("rev-parse", "--short", "HEAD"), _git("status", "--porcelain")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + (" + uncommitted changes" if dirty else "")


def summary(found: dict[str, Any], results: Path) -> str:
    machine: dict[str, Any] = next(
        (r["machine"] for r in found.values() if r and isinstance(r.get("machine"), dict)), {}
    )
    lines = ["# Performance summary (issue 7)", "",
             f"Generated {dt.datetime.now(dt.UTC).isoformat(timespec='seconds')} from "
             f"{_revision()}; machine: {machine.get('cpu', '?')}, "
             f"{machine.get('cores', '?')} cores, "
             f"Python {machine.get('python', '?')}. How to read and re-run: "
             "[docs/performance.md](../../docs/performance.md).", "",
             "## Targets", ""]  # fmt: skip
    rows = []
    for name in OURS:
        rows += _verdict_rows(name, found.get(name))
    lines += _table(["target", "measured", "target", "result", "bench"], rows)
    sections = [("Gateway overhead vs the upstream and the LiteLLM proxy", "overhead", _overhead),
                ("Handler time per request (Lambda Duration) and cache hits vs entries",
                 "handler_time", _handler),
                ("Cold start", "cold_start", _cold),
                ("Cache stage latency (cache bench)", "cache_latency", _cache_bench),
                ("Compression latency per 1k tokens", "compression", _compression),
                ("Package size", "package_size", _sizes)]  # fmt: skip
    for title, name, render in sections:
        lines += ["", f"## {title}", ""]
        try:
            lines += render(found[name]) if found.get(name) else [f"Not run ({name})."]
        except (KeyError, TypeError, IndexError):
            lines += [f"{name}.json is in an older format: re-run its bench."]
    others = sorted(p.stem for p in results.glob("*.json") if p.stem not in OURS)
    if others:
        lines += ["", "## Other benches", ""]
        lines += [f"- {stem}: [{stem}.md]({stem}.md)" for stem in others
                  if (results / f"{stem}.md").exists()]  # fmt: skip
    return "\n".join(lines) + "\n"


def collect(results: Path = RESULTS) -> dict[str, Any]:
    found = {name: _load(results / f"{name}.json") for name in OURS}
    found["package_size"] = package_sizes() or found.get("package_size")
    found["cache_latency"] = _load(ROOT / "bench" / "cache" / "results" / "latency.json")
    found["compression"] = _load(ROOT / "bench" / "compression" / "results" / "compression.json")
    return found


def main(argv: list[str] | None = None) -> int:
    results = Path(argv[0]) if argv else RESULTS
    found = collect(results)
    results.mkdir(parents=True, exist_ok=True)
    if found["package_size"]:
        (results / "package_size.json").write_text(json.dumps(found["package_size"], indent=2))
    try:
        from bench.charts import write_charts
    except ImportError as error:  # matplotlib missing
        print(f"report: no charts ({error})")
    else:
        write_charts(found, results)
    (results / "SUMMARY.md").write_text(summary(found, results))
    print(f"wrote {results / 'SUMMARY.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
