"""Installed size of the local embedder on Lambda (arm64, Python 3.12): onnxruntime, numpy,
tokenizers and their dependencies from the aarch64 wheels, plus the built model.

Usage: python -m bench.cache.sizes   (downloads the wheels with pip; the registry must be
reachable) -> bench/cache/results/sizes.json
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from bench.cache.quality import DEFAULT_MODEL, RESULTS

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ["onnxruntime", "numpy", "tokenizers", "flatbuffers", "protobuf"]
# The project venv has no pip (uv manages it); any Python with pip can download wheels.
PIP = os.environ.get("PIP_PYTHON", sys.executable)
PLATFORMS = ["manylinux2014_aarch64", "manylinux_2_17_aarch64", "manylinux_2_28_aarch64"]


def pinned(name: str) -> str:
    for line in (ROOT / "requirements" / "runtime.txt").read_text().splitlines():
        if line.lower().startswith(f"{name}=="):
            return line.split()[0]
    return name


def installed_mb(wheel: Path) -> float:
    with zipfile.ZipFile(wheel) as archive:
        return sum(info.file_size for info in archive.infolist()) / 1e6


def main() -> int:
    sizes: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        platform_args = [arg for p in PLATFORMS for arg in ("--platform", p)]
        for name in PACKAGES:
            subprocess.run(  # noqa: S603 - pip with fixed arguments
                [PIP, "-m", "pip", "download", "-q", "--no-deps", "--only-binary=:all:",
                 "--python-version", "3.12", *platform_args, "-d", tmp, pinned(name)],
                check=True,
            )  # fmt: skip
        for wheel in Path(tmp).glob("*.whl"):
            sizes[wheel.name.split("-")[0]] = round(installed_mb(wheel), 1)
    model = (
        sum(f.stat().st_size for f in DEFAULT_MODEL.glob("*")) / 1e6
        if DEFAULT_MODEL.exists()
        else 0
    )
    report = {
        "installed_mb": sizes,
        "model_mb": round(model, 1),
        "total_mb": round(sum(sizes.values()) + model, 1),
        "already_in_the_completion_function": ["tokenizers (litellm depends on it)"],
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "sizes.json").write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
