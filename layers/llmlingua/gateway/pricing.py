"""Prices per token, from the config and litellm's offline cost map, without importing litellm.

litellm ships its price map as `model_prices_and_context_window_backup.json`; reading that
file (about 30 ms, once per instance) instead of importing litellm (4-5 s) keeps budget
estimates off litellm's import path, so a cache hit still never imports it. A price in the
config (`input_cost_per_token` in `litellm_params` or `model_info`) wins over the map.
Costs are Decimals: spend is added in DynamoDB with exact decimal arithmetic.
"""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

from gateway.config import Deployment, GatewayConfig

_COST_MAP_FILE = "model_prices_and_context_window_backup.json"
_TIER_TOKENS = 200_000  # litellm's `*_above_200k_tokens` prices start here


@dataclass(frozen=True)
class Price:
    input: Decimal
    output: Decimal
    input_above_200k: Decimal | None = None
    output_above_200k: Decimal | None = None

    def cost(self, prompt_tokens: int, completion_tokens: int) -> Decimal:
        long_prompt = prompt_tokens > _TIER_TOKENS
        input_price = self.input_above_200k if long_prompt and self.input_above_200k else self.input
        output_price = (
            self.output_above_200k if long_prompt and self.output_above_200k else self.output
        )
        return input_price * prompt_tokens + output_price * completion_tokens


class PriceBook:
    """The price of every public model name of the config."""

    def __init__(self, config: GatewayConfig, cost_map: Mapping[str, Any] | None = None) -> None:
        table = litellm_cost_map() if cost_map is None else cost_map
        self._prices: dict[str, Price] = {}
        for deployment in config.deployments:
            price = _deployment_price(deployment, table)
            if price is not None:
                self._prices.setdefault(deployment.model_name, price)
        self._names = config.model_names()

    def price(self, model_name: str) -> Price | None:
        return self._prices.get(model_name)

    def cost(self, model_name: str, prompt_tokens: int, completion_tokens: int) -> Decimal:
        """USD for one call; 0 for a model without a price (flagged at start-up)."""
        price = self._prices.get(model_name)
        return price.cost(prompt_tokens, completion_tokens) if price else Decimal(0)

    def unpriced_models(self) -> list[str]:
        return [name for name in self._names if name not in self._prices]


def _deployment_price(deployment: Deployment, table: Mapping[str, Any]) -> Price | None:
    for source in (deployment.litellm_params, deployment.model_info):
        if source.get("input_cost_per_token") is not None:
            return _price(source)
    model = str(deployment.litellm_params["model"])
    for name in (model, model.split("/", 1)[-1]):
        entry = table.get(name)
        if isinstance(entry, Mapping) and entry.get("input_cost_per_token") is not None:
            return _price(entry)
    return None


def _price(entry: Mapping[str, Any]) -> Price:
    def number(name: str) -> Decimal | None:
        value = entry.get(name)
        return None if value is None else Decimal(str(value))

    return Price(
        input=number("input_cost_per_token") or Decimal(0),
        output=number("output_cost_per_token") or Decimal(0),
        input_above_200k=number("input_cost_per_token_above_200k_tokens"),
        output_above_200k=number("output_cost_per_token_above_200k_tokens"),
    )


@lru_cache(maxsize=1)
def litellm_cost_map() -> dict[str, Any]:
    """litellm's offline price map, read from its package files (litellm is not imported)."""
    spec = importlib.util.find_spec("litellm")
    if spec is None or not spec.submodule_search_locations:
        return {}
    path = Path(next(iter(spec.submodule_search_locations))) / _COST_MAP_FILE
    try:
        loaded = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return {}
    return loaded if isinstance(loaded, dict) else {}
