"""App factory for a fake LLM provider server (OpenAI, Anthropic, Gemini, Groq)."""

from __future__ import annotations

from fastapi import FastAPI

from . import anthropic_api, control, gemini_api, openai_api
from .state import FakeState


def create_fake_provider_app(name: str = "fake") -> FastAPI:
    """One app serving every provider protocol, with its own FakeState."""
    app = FastAPI(title=f"fake-providers[{name}]", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.fake = FakeState(name)
    app.include_router(control.router)
    app.include_router(openai_api.build_router("/v1", "openai"))
    app.include_router(openai_api.build_router("/openai/v1", "groq"))
    app.include_router(anthropic_api.router)
    app.include_router(gemini_api.router)
    return app
