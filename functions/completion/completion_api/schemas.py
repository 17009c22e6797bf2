"""Request bodies of the OpenAI API. Unknown OpenAI parameters pass through to litellm."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

# litellm call options a client must never set: they would redirect the call (api_base: SSRF),
# swap credentials, fake the answer (mock_response) or change routing and accounting. The
# LiteLLM proxy refuses client-side api_base/api_key the same way unless told otherwise.
_GATEWAY_ONLY_PARAMS = frozenset(
    {
        "api_key", "api_base", "base_url", "api_version", "api_type", "organization",
        "custom_llm_provider", "deployment_id", "model_list", "model_info", "headers",
        "extra_headers", "mock_response", "mock_tool_calls", "mock_timeout", "num_retries",
        "max_retries", "timeout", "request_timeout", "fallbacks", "context_window_fallbacks",
        "cooldown_time", "caching", "input_cost_per_token", "output_cost_per_token",
        "proxy_server_request", "client", "azure_ad_token", "specific_deployment",
    }
)  # fmt: skip
_GATEWAY_ONLY_PREFIXES = ("litellm_", "aws_", "vertex_", "azure_", "watsonx_")

Role = Literal["system", "developer", "user", "assistant", "tool", "function"]


class _OpenAIRequest(BaseModel):
    model_config = ConfigDict(extra="allow")

    model: str = Field(min_length=1, max_length=256)
    user: str | None = Field(default=None, max_length=256)

    @model_validator(mode="after")
    def _no_gateway_only_params(self) -> _OpenAIRequest:
        for name in self.model_extra or {}:
            if name in _GATEWAY_ONLY_PARAMS or name.startswith(_GATEWAY_ONLY_PREFIXES):
                raise ValueError(f"'{name}' cannot be set by a client of this gateway")
        return self

    def provider_params(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True)


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")

    role: Role
    content: str | list[dict[str, Any]] | None = None

    @model_validator(mode="after")
    def _content_present(self) -> ChatMessage:
        # As OpenAI: only an assistant message carrying tool calls may omit `content`. Without
        # this check providers' adapters crash on it and the client got a 502 (issue 8 fuzzing).
        calls = (self.model_extra or {}).keys() & {"tool_calls", "function_call"}
        if self.content is None and not (self.role == "assistant" and calls):
            raise ValueError(f"a '{self.role}' message needs 'content'")
        return self


class _Sampling(_OpenAIRequest):
    stream: bool = False
    stream_options: dict[str, Any] | None = None
    temperature: float | None = Field(default=None, ge=0, le=2)
    top_p: float | None = Field(default=None, ge=0, le=1)
    n: int | None = Field(default=None, ge=1, le=128)
    max_tokens: int | None = Field(default=None, ge=1, le=1_000_000)
    presence_penalty: float | None = Field(default=None, ge=-2, le=2)
    frequency_penalty: float | None = Field(default=None, ge=-2, le=2)
    stop: str | list[str] | None = None
    seed: int | None = None


class ChatCompletionRequest(_Sampling):
    messages: list[ChatMessage] = Field(min_length=1)
    max_completion_tokens: int | None = Field(default=None, ge=1, le=1_000_000)
    tools: list[dict[str, Any]] | None = None
    tool_choice: str | dict[str, Any] | None = None
    response_format: dict[str, Any] | None = None


class CompletionRequest(_Sampling):
    prompt: str | list[str] | list[int] | list[list[int]]


class EmbeddingRequest(_OpenAIRequest):
    input: str | list[str] | list[int] | list[list[int]]
    encoding_format: Literal["float", "base64"] | None = None
    dimensions: int | None = Field(default=None, ge=1, le=65_536)

    @model_validator(mode="after")
    def _no_stream(self) -> EmbeddingRequest:
        if (self.model_extra or {}).get("stream"):
            raise ValueError("'stream' is not supported for embeddings")
        return self
