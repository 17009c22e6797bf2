"""The completion function: OpenAI-compatible inference, models, health and metrics."""
