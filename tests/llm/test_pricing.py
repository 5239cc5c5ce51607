"""The versioned price table, costs, worst cases and the user's override file."""

from __future__ import annotations

import json

import pytest

from autoresearch.errors import UsageError
from autoresearch.llm import TokenCounts
from autoresearch.llm.pricing import PRICES_ENV, Price, PriceTable


def test_shipped_table_is_versioned_and_prices_every_preset_default():
    from autoresearch.llm.providers import PRESETS

    table = PriceTable.load({})
    assert table.version >= "2026"
    for preset in PRESETS.values():
        if preset.default_model and preset.name != "openai-compatible":
            assert table.lookup(preset.name, preset.default_model) is not None, preset.name


def test_cost_uses_each_category_rate():
    price = PriceTable.load({}).lookup("anthropic", "claude-sonnet-4-6")
    assert price == Price(3.0, 15.0, 3.75, 0.3)
    tokens = TokenCounts(input=1_000_000, output=100_000, cache_write=200_000, cache_read=10**6)
    assert price.cost(tokens) == pytest.approx(3.0 + 1.5 + 0.75 + 0.3)


def test_missing_cache_rates_fall_back_to_input_and_worst_case_bounds_any_call():
    price = Price(input=2.0, output=8.0)
    assert price.cost(TokenCounts(cache_read=10**6)) == pytest.approx(2.0)
    worst = Price(3.0, 15.0, 3.75, 0.3).worst_case(1000, 500)
    assert worst == pytest.approx((1000 * 3.75 + 500 * 15.0) / 1e6)
    for split in ((1000, 0, 0), (0, 1000, 0), (0, 0, 1000), (400, 300, 300)):
        tokens = TokenCounts(split[0], 500, split[1], split[2])
        assert Price(3.0, 15.0, 3.75, 0.3).cost(tokens) <= worst + 1e-12


def test_unknown_models_have_no_price_and_local_ones_are_free():
    table = PriceTable.load({})
    assert table.lookup("anthropic", "claude-imaginary-9") is None
    assert table.lookup("openai-compatible", "smollm2") is None
    assert table.lookup("ollama", "anything:7b").cost(TokenCounts(10**6, 10**6)) == 0.0


def test_override_file_adds_and_replaces_prices(tmp_path):
    path = tmp_path / "prices.json"
    path.write_text(json.dumps({"version": "mine", "models": {
        "openai-compatible": {"smollm2": {"input": 0.0, "output": 0.0}},
        "anthropic": {"claude-sonnet-4-6": {"input": 1.0, "output": 2.0}}}}))
    table = PriceTable.load({PRICES_ENV: str(path)})
    assert table.version.endswith("+mine")
    assert table.lookup("openai-compatible", "smollm2") == Price(0.0, 0.0)
    assert table.lookup("anthropic", "claude-sonnet-4-6") == Price(1.0, 2.0)
    assert table.lookup("anthropic", "claude-haiku-4-5") is not None


def test_a_broken_override_file_is_a_usage_error(tmp_path):
    path = tmp_path / "prices.json"
    path.write_text("{not json")
    with pytest.raises(UsageError, match=PRICES_ENV):
        PriceTable.load({PRICES_ENV: str(path)})
