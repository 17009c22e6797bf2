"""`make bench` entry: the compression bench needs torch, so it runs in .venv-ml, never here."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def main() -> int:
    if not (ROOT / ".venv-ml" / "bin" / "python").exists():
        print("bench.compression: skipped (no .venv-ml; run `make bench-compression`)")
        return 0
    return subprocess.call(["make", "-C", str(ROOT), "bench-compression"])  # noqa: S603,S607


if __name__ == "__main__":
    sys.exit(main())
