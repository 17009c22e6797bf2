"""Vectors as bytes without numpy: float32 for the index, int8 for the fallback scan."""

from __future__ import annotations

import math
from array import array
from collections.abc import Sequence
from operator import mul


def normalised(vector: Sequence[float]) -> list[float]:
    norm = math.sqrt(sum(x * x for x in vector)) or 1.0
    return [x / norm for x in vector]


def to_float32(vector: Sequence[float]) -> bytes:
    return array("f", vector).tobytes()  # little-endian on x86-64 and arm64, as FT.* expects


def from_float32(blob: bytes) -> list[float]:
    values = array("f")
    values.frombytes(blob)
    return values.tolist()


def to_int8(vector: Sequence[float]) -> bytes:
    """A unit vector in 1 byte per dimension (cosine error ~0.005), for the fallback scan."""
    return array("b", (max(-127, min(127, round(x * 127))) for x in vector)).tobytes()


def cosine(a: Sequence[float], b: Sequence[float]) -> float:
    if len(a) != len(b):
        return -1.0
    norms = math.sqrt(sum(map(mul, a, a)) * sum(map(mul, b, b)))
    return sum(map(mul, a, b)) / norms if norms else 0.0


def nearest_int8(
    query: Sequence[float], blobs: dict[bytes, bytes], k: int
) -> list[tuple[bytes, float]]:
    """The k members whose int8 vectors are nearest `query` (approximate cosine), best first."""
    blobs = {m: b for m, b in blobs.items() if len(b) == len(query)}
    if not blobs:
        return []
    try:
        import numpy as np
    except ImportError:  # a remote embedder need not ship numpy: pure Python, bounded by the cap
        scored = [(member, _int8_cosine(query, blob)) for member, blob in blobs.items()]
    else:
        members = list(blobs)
        raw = np.frombuffer(b"".join(blobs[m] for m in members), dtype=np.int8)
        matrix = raw.reshape(len(members), -1).astype(np.float32)
        scores = (matrix @ np.asarray(query, dtype=np.float32)) / np.maximum(
            np.linalg.norm(matrix, axis=1), 1e-9
        )
        scored = list(zip(members, scores.tolist(), strict=True))
    scored.sort(key=lambda item: item[1], reverse=True)
    return scored[:k]


def _int8_cosine(query: Sequence[float], blob: bytes) -> float:
    values = array("b")
    values.frombytes(blob)
    return cosine(query, values) if len(values) == len(query) else -1.0
