"""Prices from the config and litellm's offline cost map, read without importing litellm."""

from __future__ import annotations

from decimal import Decimal

import pytest
from gateway.config import load_config, parse_config
from gateway.pricing import PriceBook

from devstack.stack import ROOT

SHIPPED = load_config(ROOT / "config" / "litellm_config.yaml")


def test_every_shipped_model_has_a_price() -> None:
    assert PriceBook(SHIPPED).unpriced_models() == []


def test_a_model_without_a_price_is_flagged() -> None:
    config = parse_config(
        {"model_list": [{"model_name": "x", "litellm_params": {"model": "openai/nope"}}]}
    )
    book = PriceBook(config)
    assert book.unpriced_models() == ["x"]
    assert book.cost("x", 1000, 1000) == 0


def test_costs_are_exact_decimals() -> None:
    book = PriceBook(SHIPPED)
    assert book.cost("gpt-4o-mini", 3, 1) == Decimal("0.00000105")
    # A config price wins over (here: fills the gap in) the cost map
    assert book.cost("claude-opus-4-1", 1000, 100) == Decimal("0.0225")
    assert book.cost("text-embedding-3-small", 1000, 0) == Decimal("0.00002")


def test_long_prompts_use_the_above_200k_price_where_the_map_has_one() -> None:
    price = PriceBook(SHIPPED).price("gemini-2-5-pro")
    assert price is not None and price.input_above_200k is not None
    assert price.cost(200_001, 0) == price.input_above_200k * 200_001


@pytest.mark.parametrize(
    "model", ["gpt-4o", "gpt-4o-mini", "claude-sonnet-4-5", "gemini-2-5-flash"]
)
def test_agrees_with_litellm_completion_cost(model: str) -> None:
    import litellm
    from litellm import ModelResponse

    deployment = SHIPPED.deployments_for(model)[0]
    response = ModelResponse(
        model=str(deployment.litellm_params["model"]).split("/", 1)[1],
        usage={"prompt_tokens": 1234, "completion_tokens": 567, "total_tokens": 1801},
    )
    provider = deployment.provider
    expected = litellm.completion_cost(completion_response=response, custom_llm_provider=provider)
    ours = PriceBook(SHIPPED).cost(model, 1234, 567)
    assert float(ours) == pytest.approx(expected, rel=1e-9)
