"""`make model`: fetch the trained LLMLingua-2 model for deployment builds (needs the internet).

Downloads microsoft/llmlingua-2-bert-base-multilingual-cased-meetingbank from Hugging Face into
build/models/ (the ML function's image bakes it in). Offline it fails at once with a clear
message: tests and benches use scripts/build_test_compression_model.py instead.
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
from pathlib import Path

HOST = "huggingface.co"
FILES = [
    "config.json",
    "model.safetensors",
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "vocab.txt",
    "*.md",
]


def reachable(host: str = HOST, timeout: float = 5.0) -> bool:
    try:
        socket.create_connection((host, 443), timeout=timeout).close()
    except OSError:
        return False
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    if (args.out / "config.json").is_file():
        print(f"{args.out} already present", file=sys.stderr)
        return 0
    if not reachable():
        print(
            f"make model: {HOST} is not reachable from this machine, so {args.model} cannot be "
            "fetched here. Run `make model` where the internet is reachable (a deployment build "
            "step). Tests and benches need no download: they build a random PLUMBING-ONLY model "
            "(make test-model / make bench-model).",
            file=sys.stderr,
        )
        return 2
    os.environ.pop("HF_HUB_OFFLINE", None)
    from huggingface_hub import snapshot_download

    snapshot_download(args.model, local_dir=args.out, allow_patterns=FILES)
    print(f"fetched {args.model} into {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
