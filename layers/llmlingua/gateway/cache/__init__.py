"""Exact and semantic response cache in Valkey/Redis, isolated per tenant (docs/cache.md).

Modules: policy (settings, per-key and per-request controls), keys (canonical request hashing),
guards + lexicon (what must agree beyond similarity), store (Redis adapter: entries, FT.* index,
fallback), vectors, replay (streams), stage (the pipeline stage), wiring, events (counters).
"""
