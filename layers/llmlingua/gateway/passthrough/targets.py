"""Which deployments the OpenAI-wire pass-through serves, and where each one's requests go.

A deployment qualifies when its provider speaks the OpenAI wire protocol as is (OpenAI, Groq)
and its `litellm_params` hold nothing but what the pass-through understands; anything else
(Anthropic, Gemini, Azure, a per-deployment `temperature`, ...) stays on litellm. A model
name is served by the pass-through only when every ready deployment of it qualifies, so one
request never mixes both paths. Nothing here imports litellm or opens a connection.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gateway.callbacks import SETTINGS_KEYS as CALLBACK_SETTINGS
from gateway.config import ENV_REF_PREFIX, Deployment, GatewayConfig

# Call kind -> the upstream path under the deployment's base URL.
PATHS = {"chat": "/chat/completions", "text_completion": "/completions", "embedding": "/embeddings"}
# litellm model prefix -> (provider, call kinds the pass-through serves for it).
_KINDS_BY_PREFIX = {
    "openai": ("openai", {"chat", "embedding"}),
    "text-completion-openai": ("openai", {"text_completion"}),
    "groq": ("groq", {"chat"}),
}
# OpenAI's own model names, which litellm routes to OpenAI without a prefix.
_OPENAI_NAME = re.compile(r"^(gpt-|chatgpt-|o\d|text-embedding-|davinci-|babbage-)")
# Models OpenAI serves on /v1/completions (litellm sends other `openai/` text calls to chat).
_TEXT_MODEL = re.compile(r"(-instruct\b|^davinci-|^babbage-)")
_BASE_URL = {
    "openai": (("OPENAI_BASE_URL", "OPENAI_API_BASE"), "https://api.openai.com/v1"),
    "groq": (("GROQ_API_BASE",), "https://api.groq.com/openai/v1"),
}
_KEY_ENV = {"openai": "OPENAI_API_KEY", "groq": "GROQ_API_KEY"}
# litellm_params the pass-through understands; any other key sends the deployment to litellm.
_KNOWN_PARAMS = frozenset(
    {
        "model", "api_key", "api_base", "timeout", "stream_timeout", "organization", "weight",
        "rpm", "tpm", "tags", "input_cost_per_token", "output_cost_per_token",
        "input_cost_per_token_above_200k_tokens", "output_cost_per_token_above_200k_tokens",
    }
)  # fmt: skip
_DEFAULT_TIMEOUT_S = 6000.0  # litellm's request_timeout when neither deployment nor router sets one


@dataclass(frozen=True)
class Target:
    """One deployment as the pass-through calls it."""

    model_name: str  # the public name (the model group)
    model: str  # the name sent upstream, without litellm's prefix
    provider: str
    base_url: str
    api_key: str | None
    timeout_s: float
    stream_timeout_s: float
    organization: str | None
    weight: float | None
    model_id: str

    def url(self, kind: str) -> str:
        return self.base_url + PATHS[kind]


def passthrough_enabled(config: GatewayConfig) -> bool:
    """Off when the config says so, when litellm callbacks must see every call, or when a
    routing strategy other than simple-shuffle is asked for."""
    if config.general_settings.get("passthrough", True) is False:
        return False
    if any(config.litellm_settings.get(key) for key in CALLBACK_SETTINGS):
        return False
    strategy = config.router_settings.get("routing_strategy") or "simple-shuffle"
    return strategy == "simple-shuffle"


def build_targets(
    config: GatewayConfig, environ: Mapping[str, str]
) -> dict[tuple[str, str], tuple[Target, ...]]:
    """(call kind, public model name) -> its deployments, for the groups the pass-through serves."""
    groups: dict[tuple[str, str], list[Target | None]] = {}
    for deployment in config.deployments:
        if deployment.missing_env(environ):
            continue  # litellm's model_list leaves these out too
        for kind in PATHS:
            target = _target(deployment, kind, config.router_settings, environ)
            groups.setdefault((kind, deployment.model_name), []).append(target)
    return {
        key: tuple(t for t in targets if t is not None)
        for key, targets in groups.items()
        if all(t is not None for t in targets)
    }


def _target(
    deployment: Deployment, kind: str, router: Mapping[str, Any], environ: Mapping[str, str]
) -> Target | None:
    params = deployment.litellm_params
    if not set(params) <= _KNOWN_PARAMS:
        return None
    full = str(params["model"])
    prefix, _, rest = full.partition("/")
    if rest:
        provider, kinds = _KINDS_BY_PREFIX.get(prefix, ("", set()))
        model = rest
    elif _OPENAI_NAME.match(full):
        provider, kinds, model = "openai", {"chat", "embedding", "text_completion"}, full
    else:
        return None
    if kind not in kinds:
        return None
    instruct = prefix == "text-completion-openai" or _TEXT_MODEL.search(model)
    if kind == "text_completion" and not instruct:
        return None
    env_names, default_base = _BASE_URL[provider]
    base = _value(params.get("api_base"), environ) or next(
        (environ[n] for n in env_names if environ.get(n)), default_base
    )
    timeout = float(params.get("timeout") or router.get("timeout") or _DEFAULT_TIMEOUT_S)
    weight = params.get("weight", params.get("rpm", params.get("tpm")))
    return Target(
        model_name=deployment.model_name,
        model=model,
        provider=provider,
        base_url=str(base).rstrip("/"),
        api_key=_value(params.get("api_key"), environ) or environ.get(_KEY_ENV[provider]),
        timeout_s=timeout,
        stream_timeout_s=float(params.get("stream_timeout") or timeout),
        organization=_value(params.get("organization"), environ),
        weight=float(weight) if weight is not None else None,
        model_id=str(deployment.model_info.get("id") or _model_id(deployment)),
    )


def _value(raw: Any, environ: Mapping[str, str]) -> str | None:
    """A litellm_params string, with `os.environ/NAME` resolved as litellm does."""
    if not isinstance(raw, str) or not raw:
        return None
    if raw.startswith(ENV_REF_PREFIX):
        return environ.get(raw.removeprefix(ENV_REF_PREFIX)) or None
    return raw


def _model_id(deployment: Deployment) -> str:
    """A stable id per deployment (litellm hashes the group name and params the same way)."""
    raw = json.dumps([deployment.model_name, dict(deployment.litellm_params)], sort_keys=True)
    return hashlib.sha256(raw.encode()).hexdigest()
