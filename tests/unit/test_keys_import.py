"""The keys function never imports litellm; nor does pricing (budget estimates on cache hits)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from devstack.stack import ROOT
from tests.integration.stack import PYTHONPATH

_PROBE = """
import json, sys, time
started = time.perf_counter()
{statement}
print(json.dumps({{"seconds": time.perf_counter() - started,
                  "litellm": sorted(m for m in sys.modules if m.split(".")[0] == "litellm")}}))
"""


def _fresh_import(statement: str) -> dict:
    env = {**os.environ, "PYTHONPATH": PYTHONPATH, "LITELLM_MASTER_KEY": "sk-probe"}
    result = subprocess.run(  # noqa: S603 - our interpreter, fixed code
        [sys.executable, "-c", _PROBE.format(statement=statement)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_keys_function_app_does_not_import_litellm() -> None:
    probe = _fresh_import("import keys_api.app")
    assert probe["litellm"] == []


def test_pricing_reads_the_cost_map_without_importing_litellm() -> None:
    statement = (
        "from gateway.config import load_config; from gateway.pricing import PriceBook; "
        "from gateway.settings import get_settings; "
        "PriceBook(load_config(get_settings().gateway_config)).cost('gpt-4o', 10, 10)"
    )
    assert _fresh_import(statement)["litellm"] == []
