"""The llmlingua adapter: `PromptCompressor(use_llmlingua2=True)` in this process, CPU or GPU.

Only importable where torch and llmlingua are installed (.venv-ml, the ML function's image);
nothing imports llmlingua until the first load. The model loads once per process; calls are
serialised (the compressor keeps per-call state and torch already uses every core).
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from gateway.compression.engine import EngineError
from gateway.compression.tiktoken_cache import seed_tiktoken_cache

SUPPORTED_NAME_PARTS = ("bert-base-multilingual-cased", "xlm-roberta-large")
CHUNK_END_TOKENS = (".", "\n")


def model_problem(model_dir: Path | None) -> str | None:
    """Why `model_dir` cannot be loaded by llmlingua 2, or None if it looks loadable."""
    if model_dir is None:
        return "no_model"
    if not (model_dir / "config.json").is_file():
        return "no_model"
    if not any(part in str(model_dir) for part in SUPPORTED_NAME_PARTS):
        return "unsupported_model_name"
    return None


class InProcessEngine:
    name = "inprocess"

    def __init__(self, model_dir: Path, device: str = "cpu") -> None:
        self.model_dir = model_dir
        self.device = device
        self._compressor: Any = None
        self._lock = threading.Lock()
        self.load_seconds: float | None = None

    def load(self) -> Any:
        """Load tokenizer and model (offline); idempotent and thread-safe."""
        with self._lock:
            if self._compressor is None:
                started = time.perf_counter()
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
                os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
                seed_tiktoken_cache()
                try:
                    from llmlingua import PromptCompressor

                    self._compressor = PromptCompressor(
                        model_name=str(self.model_dir), use_llmlingua2=True, device_map=self.device
                    )
                except Exception as error:  # noqa: BLE001 - any load failure means unavailable
                    raise EngineError(f"cannot load the compression model: {error}") from error
                self.load_seconds = time.perf_counter() - started
            return self._compressor

    @property
    def loaded(self) -> bool:
        return self._compressor is not None

    def compress_sync(
        self, texts: Sequence[str], rate: float, force_tokens: Sequence[str]
    ) -> list[str]:
        if not texts:
            return []
        compressor = self.load()
        with self._lock:
            try:
                result = compressor.compress_prompt_llmlingua2(
                    list(texts),
                    rate=rate,
                    force_tokens=list(force_tokens),
                    chunk_end_tokens=list(CHUNK_END_TOKENS),
                    use_context_level_filter=False,
                    drop_consecutive=False,
                )
            except Exception as error:  # noqa: BLE001 - library errors become EngineError
                raise EngineError(f"llmlingua failed: {type(error).__name__}") from error
        compressed = list(result["compressed_prompt_list"])
        if len(compressed) != len(texts):
            raise EngineError("llmlingua returned a different number of texts")
        return compressed

    async def compress(
        self, texts: Sequence[str], rate: float, force_tokens: Sequence[str]
    ) -> list[str]:
        return await asyncio.to_thread(self.compress_sync, texts, rate, force_tokens)
