"""The load test's quick mode: 4 gateway processes, a handful of requests, every check the full
run makes (no timing assertions; the figures come from `python -m bench.load.run`)."""

from __future__ import annotations

from bench.load.run import run


def test_quick_load_run_holds_every_invariant() -> None:
    result = run(quick=True)
    assert result["gateway_5xx"] == 0, result
    keys, limited = result["keys"], int(result["rpm_never_exceeded_keys"].split("/")[1])
    assert result["rpm_never_exceeded_keys"] == f"{limited}/{limited}", result
    assert result["rpm_reached_exactly_keys"] == f"{limited}/{limited}", result
    assert result["spend_equals_logs_keys"] == f"{keys}/{keys}", result
    assert result["keys_over_budget_beyond_allowance"] == 0, result
