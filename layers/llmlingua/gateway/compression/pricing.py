"""Input price per token of a model, for the pays-for-itself rule.

An adapter over the gateway's shared price book (gateway/pricing.py: the config's own prices,
then litellm's offline cost map read from its package files, so litellm is never imported
here). Only this module of the compression package knows where prices come from.
"""

from __future__ import annotations

from collections.abc import Callable

from gateway.config import GatewayConfig
from gateway.pricing import PriceBook

InputPrice = Callable[[str], float | None]


def input_price_of(config: GatewayConfig) -> InputPrice:
    """model name -> USD per input token (None when neither the config nor litellm knows it)."""
    book = PriceBook(config)  # built once per instance, by the stage's factory

    def input_price(model_name: str) -> float | None:
        price = book.price(model_name)
        return float(price.input) if price is not None and price.input > 0 else None

    return input_price
