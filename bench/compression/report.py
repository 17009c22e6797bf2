"""The Markdown page of the compression bench."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def write_markdown(r: dict[str, Any], path: Path) -> None:
    m, be = r["machine"], r["break_even"]
    lines = [
        "# Prompt compression bench (LLMLingua-2, CPU)",
        "",
        f"> {r['label']}.",
        "",
        f"Machine: {m['cpu']}, {m['cores']} cores, torch threads {m['torch_threads']}, "
        f"Python {m['python']}. Model: `{r['model']}`. Rate {r['rate']}. "
        "Command: `make bench-compression`.",
        "",
        "## Latency and achieved ratio",
        "",
        "| prompt tokens | median ms | min ms | ms per 1k tokens | CPU ms per 1k | kept tokens "
        "| ratio |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in r["latency"]:
        lines.append(
            f"| {row['prompt_tokens']:,} | {row['median_ms']:,.0f} | {row['min_ms']:,.0f} | "
            f"{row['ms_per_1k_tokens']:,.0f} | {row['cpu_ms_per_1k_tokens']:,.0f} | "
            f"{row['compressed_tokens']:,} | "
            f"{row['achieved_ratio']:.2f} |"
        )
    lines += [
        "",
        "## Engine cold start (fresh process)",
        "",
        "| import torch s | import llmlingua s | model load s | first call s | total s "
        "| total CPU s | max RSS MB |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for c in r["cold_start"]:
        lines.append(
            f"| {c['import_torch_s']:.2f} | {c['import_llmlingua_s']:.2f} | "
            f"{c['model_load_s']:.2f} | {c['first_compress_s']:.2f} | {c['total_s']:.2f} | "
            f"{c.get('total_cpu_s', 0):.2f} | "
            f"{c['max_rss_mb']:.0f} |"
        )
    lines += [
        "",
        "## Does it pay for itself?",
        "",
        f"The machine is shared (load average {r['load_average_1m_at_end']:.1f} at the end, "
        f"on {m['cores']} cores), so wall times above are inflated. CPU time is not: "
        f"{r['cpu_ms_per_1k_tokens']:,.0f} CPU-ms per 1k tokens, i.e. about "
        f"{r['undisturbed_ms_per_1k_tokens']:,.0f} ms of wall time per 1k tokens on "
        f"{m['torch_threads']} undisturbed threads. The break-even below uses that estimate; "
        f"with the medians as measured ({r['median_ms_per_1k_tokens']:,.0f} ms per 1k) the money "
        f"break-even would be "
        f"${r['break_even_as_measured']['break_even_usd_per_million_input_tokens']:.2f} per "
        "million input tokens.",
        "",
        f"{r['undisturbed_ms_per_1k_tokens']:,.0f} ms per 1k tokens on {m['torch_threads']} "
        f"threads; as a Lambda function with as many vCPUs "
        f"({be['lambda_memory_gb_for_threads']} GB) "
        f"that is {be['gb_seconds_per_1k_tokens']:.2f} GB-s, "
        f"${be['compression_usd_per_1k_tokens']:.6f} per 1k tokens compressed (arm64 price; "
        "Graviton cores differ from this CPU).",
        "",
        f"- Money: compression pays when the model's input price exceeds "
        f"**${be['break_even_usd_per_million_input_tokens']:.2f} per million tokens** "
        f"(at rate {be['rate']}).",
        f"- Time: it saves time only if the provider prefills slower than "
        f"**{be['break_even_prefill_tokens_per_s']:,.0f} tokens/s**: "
        "never, for hosted APIs.",
        "",
        "| model | $/M input | saved $/1k | compression $/1k | pays (money) "
        "| assumed prefill tok/s | prefill s saved/1k | compression s/1k |",
        "|---|---:|---:|---:|:---:|---:|---:|---:|",
    ]
    for p in be["providers"]:
        lines.append(
            f"| {p['model']} | {p['usd_per_input_token'] * 1e6:.2f} | "
            f"{p['saved_usd_per_1k']:.6f} | "
            f"{p['compression_usd_per_1k']:.6f} | {'yes' if p['pays_in_money'] else 'no'} | "
            f"{p['assumed_prefill_tokens_per_s']:,} | {p['prefill_s_saved_per_1k']:.3f} | "
            f"{p['compression_s_per_1k']:.2f} |"
        )
    lines += [
        "",
        "Prefill speeds are assumptions of the right order of magnitude, not "
        "measurements; prices are litellm 1.110.2's cost map.",
        "",
    ]
    path.write_text("\n".join(lines))
