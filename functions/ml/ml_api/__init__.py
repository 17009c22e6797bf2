"""The ML function: the compression engine (and the embedding model) behind one small API."""
