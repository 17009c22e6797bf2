"""The provider adapter: the OpenAI-wire pass-through (gateway/passthrough) for OpenAI and Groq
deployments, a lazily built `litellm.Router` for the rest, and error translation for both.

This is the only module that talks to litellm. litellm takes 4-5 s to import, so nothing imports
it until the first call that needs it; cache hits, health, models, the keys function and (with
the pass-through on) OpenAI and Groq calls never pay for it.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import AsyncIterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from gateway.config import GatewayConfig
from gateway.errors import (
    GatewayError,
    UpstreamAuthenticationFailed,
    UpstreamError,
    UpstreamRateLimited,
    UpstreamRejected,
    UpstreamTimeout,
)
from gateway.passthrough import Passthrough, passthrough_enabled

# Router options a LiteLLM config may carry that release 1 honours.
_ROUTER_OPTIONS = ("routing_strategy", "num_retries", "timeout", "retry_after", "allowed_fails")
# Provider HTTP status -> the error the client sees. Anything else (5xx, connection) is a 502.
_ERROR_BY_STATUS: dict[int, type[GatewayError]] = {
    400: UpstreamRejected,
    401: UpstreamAuthenticationFailed,
    403: UpstreamAuthenticationFailed,
    404: UpstreamRejected,
    408: UpstreamTimeout,
    413: UpstreamRejected,
    422: UpstreamRejected,
    429: UpstreamRateLimited,
    504: UpstreamTimeout,
}
# Observability (issue 6): what the current request adds to its litellm call (`litellm_call_id`,
# `metadata` for callbacks, as the LiteLLM proxy passes them) and what the call reported back (its
# x-litellm-* headers). Context variables: each request (asyncio task) sees only its own.
call_extras: ContextVar[Mapping[str, Any] | None] = ContextVar("call_extras", default=None)
call_headers: ContextVar[dict[str, str] | None] = ContextVar("call_headers", default=None)
_KEY_PATTERN = re.compile(r"\b(sk-[A-Za-z0-9_\-]{4})[A-Za-z0-9_\-]{4,}|\bAIza[0-9A-Za-z_\-]{10,}")


@dataclass
class ProviderResult:
    """A provider answer plus what the gateway reports about it in headers."""

    body: Any
    headers: dict[str, str] = field(default_factory=dict)


def _offline_litellm() -> Any:
    # litellm fetches its price map over the network at import unless told otherwise.
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    os.environ.setdefault("LITELLM_OFFLINE_MODE", "true")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import litellm

    litellm.telemetry = False
    return litellm


class ProviderRouter:
    """Routes a request for a public model name to one of its deployments: directly over the
    OpenAI wire when the pass-through serves that name, else via litellm.Router."""

    def __init__(self, config: GatewayConfig, environ: Mapping[str, str]) -> None:
        self._config = config
        self._environ = environ
        self._router: Any = None
        self._passthrough = Passthrough(config, environ) if passthrough_enabled(config) else None
        self._secrets = tuple(
            environ[name] for d in config.deployments for name in d.env_refs() if environ.get(name)
        )

    def _get_router(self) -> Any:
        if self._router is None:
            litellm = _offline_litellm()
            litellm.drop_params = bool(self._config.litellm_settings.get("drop_params", True))
            from gateway.callbacks import register_callbacks

            register_callbacks(litellm, self._config.litellm_settings)
            model_list = [
                {
                    "model_name": d.model_name,
                    "litellm_params": dict(d.litellm_params),
                    "model_info": dict(d.model_info),
                }
                for d in self._config.deployments
                if not d.missing_env(self._environ)
            ]
            options = {
                k: v for k, v in self._config.router_settings.items() if k in _ROUTER_OPTIONS
            }
            self._router = litellm.Router(model_list=model_list, **options)
        return self._router

    async def chat(self, params: dict[str, Any]) -> ProviderResult:
        return await self._call("acompletion", params)

    async def text_completion(self, params: dict[str, Any]) -> ProviderResult:
        return await self._call("atext_completion", params)

    async def embedding(self, params: dict[str, Any]) -> ProviderResult:
        return await self._call("aembedding", params)

    def prime(self) -> None:
        """First-use work ahead of traffic (SnapStart): build litellm's Router unless the
        pass-through serves every model, and the pass-through's client. No connection opens."""
        if self._passthrough is None or not self._passthrough.serves_every_model():
            self._get_router()
        if self._passthrough is not None:
            self._passthrough.prime()

    async def _call(self, method: str, params: dict[str, Any]) -> ProviderResult:
        targets = self._passthrough.targets(method, params["model"]) if self._passthrough else ()
        if targets:
            return await self._call_passthrough(method, params, targets)
        router = self._get_router()
        params = _with_extras(params, call_extras.get())
        try:
            response = await getattr(router, method)(**params)
        except Exception as error:
            raise self.translate(error) from error
        headers = _result_headers(response)
        call_headers.set(headers)
        return ProviderResult(response, headers)

    async def _call_passthrough(
        self, method: str, params: dict[str, Any], targets: tuple[Any, ...]
    ) -> ProviderResult:
        assert self._passthrough is not None
        try:
            body, headers = await self._passthrough.call(method, params, targets)
        except Exception as error:
            raise self.translate(error) from error
        call_headers.set(headers)
        return ProviderResult(body, headers)

    async def stream_chunks(self, stream: Any) -> AsyncIterator[dict[str, Any]]:
        """The chunks of a stream (litellm's objects, or the pass-through's dicts) as plain
        dicts; errors become GatewayErrors."""
        try:
            async for chunk in stream:
                yield chunk if isinstance(chunk, dict) else chunk.model_dump(exclude_none=True)
        except Exception as error:
            raise self.translate(error) from error

    def translate(self, error: Exception) -> GatewayError:
        """A litellm/provider exception as the domain error a client should see."""
        if isinstance(error, GatewayError):
            return error
        status = getattr(error, "status_code", None)
        error_class = _ERROR_BY_STATUS.get(status, UpstreamError) if status else UpstreamError
        provider = getattr(error, "llm_provider", None) or "provider"
        message = self.redact(str(getattr(error, "message", "") or error))
        # litellm appends its Python traceback to some messages: never show it to a client.
        message = message.split("\nTraceback (most recent call last)", 1)[0][:2000]
        headers = {}
        retry_after = _retry_after(error)
        if retry_after:
            headers["Retry-After"] = retry_after
        return error_class(f"{provider} error: {message}", headers=headers)

    def redact(self, text: str) -> str:
        """Remove the gateway's own credentials (and anything key-shaped) from provider text."""
        for secret in self._secrets:
            text = text.replace(secret, "[redacted]")
        return _KEY_PATTERN.sub(lambda m: (m.group(1) or "key") + "...[redacted]", text)


def _retry_after(error: Exception) -> str | None:
    response = getattr(error, "response", None)
    headers = getattr(response, "headers", None)
    try:
        value = headers.get("retry-after") if headers is not None else None
    except Exception:  # noqa: BLE001 - a provider response without usable headers
        return None
    return str(value) if value else None


def _result_headers(response: Any) -> dict[str, str]:
    hidden = getattr(response, "_hidden_params", None) or {}
    headers = {}
    for name, value in (hidden.get("additional_headers") or {}).items():
        if name.startswith("x-litellm-") and value is not None:
            headers[name] = str(value)
    if hidden.get("model_id"):
        headers["x-litellm-model-id"] = str(hidden["model_id"])
    if hidden.get("response_cost") is not None:
        headers["x-litellm-response-cost"] = str(hidden["response_cost"])
    headers.setdefault("x-litellm-attempted-retries", "0")
    return headers


async def flush_callbacks() -> None:
    """Wait for litellm's queued async logging callbacks (a no-op if litellm was never used)."""
    if "litellm" not in sys.modules:
        return
    from litellm.litellm_core_utils.logging_worker import GLOBAL_LOGGING_WORKER

    await GLOBAL_LOGGING_WORKER.flush()


def _with_extras(params: dict[str, Any], extras: Mapping[str, Any] | None) -> dict[str, Any]:
    if not extras:
        return params
    merged = {**params, **extras}
    if isinstance(params.get("metadata"), dict) and isinstance(extras.get("metadata"), dict):
        merged["metadata"] = {**params["metadata"], **extras["metadata"]}
    return merged
