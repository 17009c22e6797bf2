"""Shared domain code of the serverless LLM gateway (the Lambda layer's package).

Named `gateway`, not `llmlingua`, so it never shadows the compression library it wraps.
"""
