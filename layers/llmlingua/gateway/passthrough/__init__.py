"""The OpenAI-wire pass-through: OpenAI and Groq deployments called directly over pooled HTTP,
without litellm (whose per-call logging, metadata and cost work costs ~9 ms against an upstream
that answers in 1 ms). `ProviderRouter` asks `Passthrough.targets` first and falls back to
litellm for every model name it does not serve. See docs/performance.md."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gateway.config import MODES, GatewayConfig
from gateway.passthrough.targets import Target, build_targets, passthrough_enabled

__all__ = ["Passthrough", "Target", "passthrough_enabled"]

# ProviderRouter method names -> call kinds.
_KINDS = {"acompletion": "chat", "atext_completion": "text_completion", "aembedding": "embedding"}
# A deployment's `model_info.mode` -> the call kind it serves (the inverse of config.MODES).
_KIND_BY_MODE = {mode: kind for kind, mode in MODES.items()}


class Passthrough:
    def __init__(self, config: GatewayConfig, environ: Mapping[str, str]) -> None:
        self._config = config
        self._environ = environ
        self._targets: dict[tuple[str, str], tuple[Target, ...]] | None = None
        self._client: Any = None
        self._prices: Any = None

    def targets(self, method: str, model_name: str) -> tuple[Target, ...]:
        """The deployments to call for this model name, or () when litellm must serve it."""
        return self._all_targets().get((_KINDS[method], model_name), ())

    def serves_every_model(self) -> bool:
        """True when no deployment needs litellm (so nothing has to import it)."""
        served = self._all_targets()
        return all(
            (_KIND_BY_MODE.get(d.mode, "chat"), d.model_name) in served
            for d in self._config.deployments
            if not d.missing_env(self._environ)
        )

    def _all_targets(self) -> dict[tuple[str, str], tuple[Target, ...]]:
        if self._targets is None:
            self._targets = build_targets(self._config, self._environ)
        return self._targets

    def prime(self) -> None:
        """Build what the first call would (targets, client object, price book); no I/O."""
        self.serves_every_model()
        self.client()
        self._price_book()

    async def call(
        self, method: str, params: dict[str, Any], targets: tuple[Target, ...]
    ) -> tuple[Any, dict[str, str]]:
        return await self.client().call(_KINDS[method], params, targets)

    def client(self) -> Any:
        if self._client is None:
            from gateway.passthrough.client import WireClient  # imports httpx: first call only

            self._client = WireClient(self._config.router_settings, self._cost)
        return self._client

    def _price_book(self) -> Any:
        if self._prices is None:
            from gateway.pricing import PriceBook  # reads litellm's price file, not litellm

            self._prices = PriceBook(self._config)
        return self._prices

    def _cost(self, model_name: str, usage: dict[str, Any]) -> float | None:
        prices = self._price_book()
        if prices.price(model_name) is None:
            return None
        prompt = int(usage.get("prompt_tokens") or 0)
        completion = int(usage.get("completion_tokens") or 0)
        return float(prices.cost(model_name, prompt, completion))
