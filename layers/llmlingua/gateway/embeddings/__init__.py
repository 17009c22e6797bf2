"""Text embeddings: one port (`Embedder`) and its adapters, chosen by configuration.

- `local/all-MiniLM-L6-v2` (default): all-MiniLM-L6-v2, ONNX int8, in process (onnx_local).
- `remote`: the same model behind an HTTP `/embed` endpoint, e.g. the ML function (remote).
- any embedding model of the config's `model_list` (e.g. `text-embedding-ada-002`): through the
  gateway's provider router, i.e. litellm (provider).

Importing this package is cheap: numpy, onnxruntime and tokenizers load on the first embedding.
"""

from gateway.embeddings.port import Embedder, EmbeddingUnavailable, embed_async

__all__ = ["Embedder", "EmbeddingUnavailable", "embed_async"]
