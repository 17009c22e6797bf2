"""PNG charts for bench/results/SUMMARY.md (matplotlib, headless). Used by bench.report."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402 - after choosing the headless backend

COLORS = {"gateway": "#1f77b4", "gateway_master": "#9ecae1", "litellm": "#d62728"}
LABELS = {"gateway": "this gateway (virtual key)", "gateway_master": "this gateway (master key)",
          "litellm": "LiteLLM proxy"}  # fmt: skip


def overhead(report: dict[str, Any], out: Path) -> None:
    table = report["table"]
    levels = sorted({int(k.split("@")[1]) for k in table})
    targets = [t for t in ("gateway", "gateway_master", "litellm") if f"{t}@{levels[0]}" in table]
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.5))
    width = 0.8 / max(len(targets), 1)
    for panel, (ax, q) in enumerate(zip(axes[:2], ("p50", "p99"), strict=True)):
        for i, target in enumerate(targets):
            values = [table.get(f"{target}@{c}", {}).get(f"added_{q}_ms", 0) for c in levels]
            xs = [x + i * width for x in range(len(levels))]
            ax.bar(xs, values, width, color=COLORS[target], label=LABELS[target])
        ax.set_xticks([x + width * (len(targets) - 1) / 2 for x in range(len(levels))])
        ax.set_xticklabels([f"c={c}" for c in levels])
        ax.set_ylabel("ms added over the upstream")
        ax.set_title(f"added latency {q}")
        if panel == 0:
            ax.axhline(3.0, color="green", linestyle="--", linewidth=1, label="target c=1 p50")
            ax.legend(fontsize=8)
        else:
            ax.axhline(15.0, color="green", linestyle="--", linewidth=1, label="target c=1 p99")
    ax = axes[2]
    for target in ("direct", *targets):
        points = [
            (c, table[k]["throughput_rps"]) for c in levels if (k := f"{target}@{c}") in table
        ]
        label = LABELS.get(target, "upstream directly")
        color = COLORS.get(target, "gray")
        ax.plot(*zip(*points, strict=True), marker="o", label=label, color=color)
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xticks(levels, [str(c) for c in levels])
    ax.set_xlabel("concurrency")
    ax.set_ylabel("requests/s")
    ax.set_title("throughput")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out / "overhead.png", dpi=100)
    plt.close(fig)


def handler_time(report: dict[str, Any], out: Path) -> None:
    levels = report["levels"]
    entries = [row["entries"] for row in levels]
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
    for ax, source, title in ((axes[0], "handler", "Lambda handler (virtual key)"),
                              (axes[1], "cache_stage", "cache stage alone")):  # fmt: skip
        kinds = list(levels[0][source])
        for kind in kinds:
            p95 = [row[source][kind].get("p95_ms") for row in levels]
            p50 = [row[source][kind].get("p50_ms") for row in levels]
            (line,) = ax.plot(entries, p95, marker="o", label=f"{kind} p95")
            ax.plot(entries, p50, marker=".", linestyle=":", color=line.get_color(),
                    label=f"{kind} p50")  # fmt: skip
        if source == "handler":
            ax.axhline(5, color="green", linestyle="--", linewidth=1, label="exact-hit target")
            ax.axhline(15, color="olive", linestyle="--", linewidth=1, label="semantic target")
        ax.set_xscale("log")
        ax.set_xlabel("entries in the tenant's partition")
        ax.set_ylabel("ms")
        ax.set_title(title)
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out / "handler_time.png", dpi=100)
    plt.close(fig)


def cold_start(report: dict[str, Any], out: Path) -> None:
    cases = {**report["cases"], **{f"SnapStart-style: {k}": v
                                   for k, v in report["snapstart_style"].items()}}  # fmt: skip
    names = list(cases)
    init = [cases[n]["init_s_median"] for n in names]
    first = [cases[n]["first_request_s_median"] for n in names]
    fig, ax = plt.subplots(figsize=(11, 0.55 * len(names) + 1.5))
    ax.barh(names, init, color="#9ecae1", label="init (import; + priming for SnapStart-style)")
    ax.barh(names, first, left=init, color="#1f77b4", label="first request")
    ax.axvline(1.0, color="green", linestyle="--", linewidth=1, label="keys target 1 s")
    ax.axvline(1.5, color="olive", linestyle="--", linewidth=1, label="cache-hit target 1.5 s")
    ax.invert_yaxis()
    ax.set_xlabel("seconds from process start")
    ax.tick_params(axis="y", labelsize=8)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out / "cold_start.png", dpi=100)
    plt.close(fig)


def package_size(report: dict[str, Any], out: Path) -> None:
    names = list(report["functions"])
    fig, ax = plt.subplots(figsize=(8, 0.6 * len(names) + 1.5))
    for i, name in enumerate(names):
        left = 0.0
        for part, size in report["functions"][name]["parts"].items():
            if isinstance(size, int | float):
                ax.barh(i, size, left=left, label=part if i == 0 or part != "SharedLayer" else None)
                left += size
    ax.set_yticks(range(len(names)), names)
    ax.axvline(200, color="green", linestyle="--", linewidth=1, label="target 200 MB")
    ax.axvline(250, color="red", linestyle="--", linewidth=1, label="Lambda limit 250 MB")
    ax.set_xlabel("MB unzipped (function + layers)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out / "package_size.png", dpi=100)
    plt.close(fig)


def write_charts(found: dict[str, Any], out: Path) -> None:
    for name, draw in (("overhead", overhead), ("handler_time", handler_time),
                       ("cold_start", cold_start), ("package_size", package_size)):  # fmt: skip
        if found.get(name):
            try:
                draw(found[name], out)
            except (KeyError, ValueError, TypeError) as error:  # an older results format
                print(f"report: no {name} chart ({error})")
