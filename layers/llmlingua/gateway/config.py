"""The LiteLLM-format config file (`model_list`, `router_settings`, `litellm_settings`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

ENV_REF_PREFIX = "os.environ/"
# Call kind -> the `model_info.mode` of the deployments that serve it (LiteLLM's vocabulary).
MODES = {"chat": "chat", "text_completion": "completion", "embedding": "embedding"}

# litellm model prefixes -> the provider names the gateway reports.
_PROVIDER_BY_PREFIX = {
    "openai": "openai",
    "text-completion-openai": "openai",
    "anthropic": "anthropic",
    "gemini": "gemini",
    "groq": "groq",
}
# Base-URL variables litellm itself reads for each provider.
BASE_URL_ENV = {
    "openai": "OPENAI_API_BASE",
    "anthropic": "ANTHROPIC_API_BASE",
    "gemini": "GEMINI_API_BASE",
    "groq": "GROQ_API_BASE",
}


class ConfigError(ValueError):
    """The config file is missing or malformed; raised at cold start, never per request."""


@dataclass(frozen=True)
class Deployment:
    """One entry of `model_list`: a public model name served by one provider deployment."""

    model_name: str
    litellm_params: Mapping[str, Any]
    model_info: Mapping[str, Any] = field(default_factory=dict)

    @property
    def provider(self) -> str:
        prefix = str(self.litellm_params["model"]).split("/", 1)[0]
        return _PROVIDER_BY_PREFIX.get(prefix, prefix)

    @property
    def mode(self) -> str:
        return str(self.model_info.get("mode", "chat"))

    def env_refs(self) -> list[str]:
        """Names of the environment variables this deployment's params refer to."""
        return [
            value.removeprefix(ENV_REF_PREFIX)
            for value in self.litellm_params.values()
            if isinstance(value, str) and value.startswith(ENV_REF_PREFIX)
        ]

    def missing_env(self, environ: Mapping[str, str]) -> list[str]:
        return [name for name in self.env_refs() if not environ.get(name)]


@dataclass(frozen=True)
class GatewayConfig:
    deployments: tuple[Deployment, ...]
    router_settings: Mapping[str, Any]
    litellm_settings: Mapping[str, Any]
    general_settings: Mapping[str, Any]

    def model_names(self) -> list[str]:
        return list(dict.fromkeys(d.model_name for d in self.deployments))

    def deployments_for(self, model_name: str) -> list[Deployment]:
        return [d for d in self.deployments if d.model_name == model_name]


def parse_config(raw: Mapping[str, Any]) -> GatewayConfig:
    entries = raw.get("model_list")
    if not isinstance(entries, list) or not entries:
        raise ConfigError("config needs a non-empty `model_list`")
    deployments = []
    for index, entry in enumerate(entries):
        params = entry.get("litellm_params") if isinstance(entry, dict) else None
        if not isinstance(params, dict) or not entry.get("model_name") or not params.get("model"):
            raise ConfigError(f"model_list[{index}] needs model_name and litellm_params.model")
        deployments.append(
            Deployment(str(entry["model_name"]), params, entry.get("model_info") or {})
        )
    return GatewayConfig(
        deployments=tuple(deployments),
        router_settings=raw.get("router_settings") or {},
        litellm_settings=raw.get("litellm_settings") or {},
        general_settings=raw.get("general_settings") or {},
    )


@lru_cache(maxsize=4)
def load_config(path: Path) -> GatewayConfig:
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise ConfigError(f"cannot read gateway config {path}: {error}") from error
    if not isinstance(raw, dict):
        raise ConfigError(f"gateway config {path} is not a mapping")
    return parse_config(raw)
