"""Fake LLM provider servers speaking real OpenAI/Anthropic/Gemini/Groq wire protocols."""

from .app import create_fake_provider_app
from .server import FakeProviderServer
from .state import FakeState, Fault

__all__ = ["FakeProviderServer", "FakeState", "Fault", "create_fake_provider_app"]
