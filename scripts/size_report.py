"""Unzipped size of each built Lambda function plus its layers (after `sam build`).

Lambda's limit is 250 MB (262,144,000 bytes) unzipped for a function and all its layers
together; the project's target is 200 MB. Layers given as ARNs (e.g. Lambda Web Adapter) are
not in the build and are listed as external, not counted.

Usage: python scripts/size_report.py [BUILD_DIR]   (default .aws-sam/build; exit 1 over limit)
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from devstack.cfn import load_template

MB = 1024 * 1024  # Lambda's "250 MB" is 262,144,000 bytes = 250 MiB
LIMIT_MB = 250
TARGET_MB = 200
FUNCTION_TYPES = ("AWS::Serverless::Function", "AWS::Lambda::Function")
LAYER_TYPES = ("AWS::Serverless::LayerVersion", "AWS::Lambda::LayerVersion")


@dataclass(frozen=True)
class Part:
    name: str
    path: Path | None  # None: external (an ARN), not counted
    size: int


def tree_size(path: Path) -> int:
    """Sum of regular file sizes under `path`: what Lambda counts once the zip is unpacked."""
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            file = Path(root, name)
            if not file.is_symlink():
                total += file.stat().st_size
    return total


def _code_dir(build_dir: Path, props: Mapping[str, Any], key: str) -> Path | None:
    uri = props.get(key)
    if isinstance(uri, str) and not uri.startswith("s3://"):
        return (build_dir / uri).resolve()
    return None


def function_parts(build_dir: Path, template: Mapping[str, Any], logical_id: str) -> list[Part]:
    resources = template.get("Resources") or {}
    props = resources[logical_id].get("Properties") or {}
    code = _code_dir(build_dir, props, "CodeUri")
    parts = [Part(logical_id, code, tree_size(code) if code else 0)]
    for layer in props.get("Layers") or []:
        ref = layer.get("Ref") if isinstance(layer, Mapping) else None
        if ref and resources.get(ref, {}).get("Type") in LAYER_TYPES:
            content = _code_dir(build_dir, resources[ref].get("Properties") or {}, "ContentUri")
            parts.append(Part(ref, content, tree_size(content) if content else 0))
        else:
            parts.append(Part(_layer_label(layer), None, 0))
    return parts


def _layer_label(layer: Any) -> str:
    if isinstance(layer, Mapping) and "Fn::Sub" in layer:
        sub = layer["Fn::Sub"]
        return str(sub[0] if isinstance(sub, list) else sub).rsplit(":layer:", 1)[-1]
    return str(layer)


def report(build_dir: Path) -> int:
    template = load_template(build_dir / "template.yaml")
    functions = [
        logical_id
        for logical_id, resource in (template.get("Resources") or {}).items()
        if resource.get("Type") in FUNCTION_TYPES
        # Container images (the ML function) have a 10 GB limit, not the zip's 250 MB.
        and (resource.get("Properties") or {}).get("PackageType") != "Image"
    ]
    if not functions:
        print(f"no functions in {build_dir / 'template.yaml'}", file=sys.stderr)
        return 1
    over = False
    for logical_id in functions:
        parts = function_parts(build_dir, template, logical_id)
        total = sum(part.size for part in parts)
        print(f"{logical_id}: {total / MB:.1f} MB unzipped (function + layers)")
        for part in parts:
            if part.path is None:
                print(f"  {part.name:<28} external layer, not counted")
            else:
                print(f"  {part.name:<28} {part.size / MB:8.1f} MB  {part.path}")
        limit = "OK" if total <= LIMIT_MB * MB else "OVER"
        target = "under" if total <= TARGET_MB * MB else "over"
        headroom = (LIMIT_MB * MB - total) / MB
        print(
            f"  limit {LIMIT_MB} MB: {limit} ({headroom:.1f} MB headroom); "
            f"{target} the {TARGET_MB} MB target"
        )
        over = over or total > LIMIT_MB * MB
    return 1 if over else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("build_dir", nargs="?", default=".aws-sam/build", type=Path)
    args = parser.parse_args(argv)
    if not (args.build_dir / "template.yaml").is_file():
        print(f"{args.build_dir}/template.yaml not found: run `make build` first", file=sys.stderr)
        return 1
    return report(args.build_dir)


if __name__ == "__main__":
    sys.exit(main())
