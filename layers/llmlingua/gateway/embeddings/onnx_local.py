"""all-MiniLM-L6-v2 (ONNX int8) in process. Built by `make embedding-model`.

onnxruntime, tokenizers and numpy are imported on first use only; `timings` records what the
import and the model load cost (bench/cache reports them).
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from gateway.embeddings.port import EmbeddingUnavailable

MODEL_NAME = "minilm-l6-v2-int8"
MAX_TOKENS = 256


class LocalOnnxEmbedder:
    name = MODEL_NAME

    def __init__(self, model_dir: Path, *, threads: int = 1) -> None:
        self.model_dir = Path(model_dir)
        self.threads = threads
        self.timings: dict[str, float] = {}
        self._session: Any = None
        self._tokenizer: Any = None
        self._np: Any = None
        self._lock = threading.Lock()

    @property
    def available(self) -> bool:
        return (self.model_dir / "model.onnx").is_file()

    def _load(self) -> None:
        with self._lock:
            if self._session is not None:
                return
            if not self.available:
                raise EmbeddingUnavailable(
                    f"embedding model not found in {self.model_dir}: run `make embedding-model`"
                )
            started = time.perf_counter()
            import numpy
            import onnxruntime
            from tokenizers import Tokenizer

            imported = time.perf_counter()
            options = onnxruntime.SessionOptions()
            options.intra_op_num_threads = self.threads
            options.inter_op_num_threads = 1
            options.log_severity_level = 3
            tokenizer = Tokenizer.from_file(str(self.model_dir / "tokenizer.json"))
            tokenizer.enable_truncation(MAX_TOKENS)
            tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")  # noqa: S106 - a token name
            session = onnxruntime.InferenceSession(
                str(self.model_dir / "model.onnx"), options, providers=["CPUExecutionProvider"]
            )
            self.timings = {
                "import_s": imported - started,
                "load_s": time.perf_counter() - imported,
            }
            self._np, self._tokenizer, self._session = numpy, tokenizer, session

    def embed(self, texts: list[str]) -> list[list[float]]:
        return [list(map(float, row)) for row in self.embed_array(texts)]

    def embed_array(self, texts: list[str]) -> Any:
        """The vectors as one float32 numpy array (batch, 384)."""
        self._load()
        np = self._np
        encoded = self._tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encoded], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encoded], dtype=np.int64)
        return self._session.run(None, {"input_ids": ids, "attention_mask": mask})[0]
