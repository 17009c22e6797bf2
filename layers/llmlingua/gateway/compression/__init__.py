"""Prompt compression with LLMLingua-2 (issue 5; docs/compression.md).

policy (profile, price rule) -> plan (what is compressed) -> engine port (in-process llmlingua,
HTTP engine server, Lambda ML function) -> CompressionStage. Importing this package loads
nothing: the ML function imports the engine modules without the gateway's web stack; the
completion function wires the stage through gateway.compression.wiring.
"""
