"""Does compression pay for itself? Money (Lambda GB-s vs input price) and time (vs prefill).

Provider prefill speeds are ASSUMPTIONS of the right order of magnitude (input tokens per
second once a request is admitted), not measurements: replace them with your own TTFT data.
Prices are litellm 1.110.2's offline cost map (USD per input token).
"""

from __future__ import annotations

from typing import Any

LAMBDA_ARM64_USD_PER_GB_S = 0.0000133334
MB_PER_VCPU = 1769  # Lambda gives one full vCPU at 1,769 MB
# model -> (USD per input token from litellm's cost map, assumed prefill tokens/s)
PROVIDERS: dict[str, tuple[float, float]] = {
    "gpt-4o-mini": (0.15e-6, 10_000),
    "gemini-2.5-flash": (0.30e-6, 10_000),
    "groq llama-3.3-70b": (0.59e-6, 20_000),
    "gemini-2.5-pro": (1.25e-6, 5_000),
    "gpt-4o": (2.50e-6, 5_000),
    "claude-sonnet-4-5": (3.00e-6, 4_000),
    "claude-opus-4-1": (15.0e-6, 2_000),
}


def analyse(seconds_per_1k: float, threads: int, rate: float) -> dict[str, Any]:
    memory_gb = threads * MB_PER_VCPU / 1024
    gb_s_per_1k = seconds_per_1k * memory_gb
    usd_per_1k = gb_s_per_1k * LAMBDA_ARM64_USD_PER_GB_S
    saved_per_1k = 1000 * (1 - rate)
    rows = []
    for model, (price, prefill) in PROVIDERS.items():
        saved_usd = saved_per_1k * price
        rows.append(
            {
                "model": model,
                "usd_per_input_token": price,
                "saved_usd_per_1k": saved_usd,
                "compression_usd_per_1k": usd_per_1k,
                "pays_in_money": saved_usd >= usd_per_1k,
                "assumed_prefill_tokens_per_s": prefill,
                "prefill_s_saved_per_1k": saved_per_1k / prefill,
                "compression_s_per_1k": seconds_per_1k,
                "pays_in_time": saved_per_1k / prefill >= seconds_per_1k,
            }
        )
    return {
        "rate": rate,
        "lambda_memory_gb_for_threads": round(memory_gb, 2),
        "gb_seconds_per_1k_tokens": gb_s_per_1k,
        "compression_usd_per_1k_tokens": usd_per_1k,
        "break_even_usd_per_input_token": usd_per_1k / saved_per_1k,
        "break_even_usd_per_million_input_tokens": usd_per_1k / saved_per_1k * 1e6,
        "break_even_prefill_tokens_per_s": saved_per_1k / seconds_per_1k,
        "providers": rows,
    }
