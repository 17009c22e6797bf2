"""`make bench`: run every benchmark; each writes its results under bench/results/."""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent


def main() -> int:
    modules = ["bench.cold_start"]
    modules += [
        f"bench.{info.name}.run"
        for info in pkgutil.iter_modules([str(BENCH)])
        if info.ispkg and (BENCH / info.name / "run.py").exists()
    ]
    for name in modules:
        print(f"== {name}", flush=True)
        saved = sys.argv
        sys.argv = [name]
        try:
            importlib.import_module(name).main()
        finally:
            sys.argv = saved
    importlib.import_module("bench.report").main()  # bench/results/SUMMARY.md with the targets
    return 0


if __name__ == "__main__":
    sys.exit(main())
