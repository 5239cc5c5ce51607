"""Prices from a versioned data file; a model the table does not know has no cost, not a guess."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from autoresearch.errors import UsageError
from autoresearch.llm.chat import Completion, TokenCounts
from autoresearch.records import LLMUsage

PRICES_ENV = "AUTORESEARCH_PRICES"
PER = 1_000_000


@dataclass(frozen=True)
class Price:
    """USD per million tokens. Missing cache rates fall back to the input rate."""

    input: float
    output: float
    cache_write: float | None = None
    cache_read: float | None = None

    def cost(self, tokens: TokenCounts) -> float:
        write = self.input if self.cache_write is None else self.cache_write
        read = self.input if self.cache_read is None else self.cache_read
        return (tokens.input * self.input + tokens.output * self.output
                + tokens.cache_write * write + tokens.cache_read * read) / PER

    def worst_case(self, input_tokens: int, max_tokens: int) -> float:
        """Upper bound of one call: every input token at the dearest input rate, a full reply."""
        dearest = max(self.input, self.cache_write or 0.0, self.cache_read or 0.0)
        return (input_tokens * dearest + max_tokens * self.output) / PER


FREE = Price(0.0, 0.0, 0.0, 0.0)


@dataclass(frozen=True)
class PriceTable:
    version: str
    models: Mapping[str, Mapping[str, Price]]
    free_providers: frozenset[str] = frozenset()

    @classmethod
    def load(cls, env: Mapping[str, str] | None = None) -> PriceTable:
        """The shipped table, with the entries of $AUTORESEARCH_PRICES laid over it."""
        shipped = json.loads(resources.files("autoresearch.llm").joinpath("prices.json")
                             .read_text(encoding="utf-8"))
        table = cls.from_dict(shipped)
        override = (env if env is not None else os.environ).get(PRICES_ENV)
        if override:
            try:
                extra = cls.from_dict(json.loads(Path(override).read_text(encoding="utf-8")))
            except (OSError, ValueError, KeyError, TypeError) as exc:
                raise UsageError(f"cannot read the price file {PRICES_ENV}={override} ({exc}); "
                                 "fix it or unset the variable") from None
            table = table.merged(extra)
        return table

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PriceTable:
        models = {provider: {model: Price(**entry) for model, entry in entries.items()}
                  for provider, entries in data.get("models", {}).items()}
        return cls(str(data.get("version", "custom")), models,
                   frozenset(data.get("free_providers", ())))

    def merged(self, other: PriceTable) -> PriceTable:
        models = {p: dict(m) for p, m in self.models.items()}
        for provider, entries in other.models.items():
            models.setdefault(provider, {}).update(entries)
        return PriceTable(f"{self.version}+{other.version}", models,
                          self.free_providers | other.free_providers)

    def lookup(self, provider: str, model: str) -> Price | None:
        if provider in self.free_providers:
            return FREE
        return self.models.get(provider, {}).get(model)

    def models_by_provider(self) -> dict[str, set[str]]:
        return {provider: set(entries) for provider, entries in self.models.items()}


def usage_record(completion: Completion, provider: str, model: str,
                 table: PriceTable) -> LLMUsage:
    """What one call used and cost, as stored with the experiment (raw usage kept, so costs
    can be recomputed; no price or no usage reported means an unknown cost, not a guess)."""
    price = table.lookup(provider, model)
    tokens = completion.tokens
    reported = bool(completion.raw_usage)
    raw: dict[str, Any] = {
        "provider": provider, "model": model, "answered_by": completion.model,
        "usage": completion.raw_usage, "price_table": table.version,
        "price_per_mtok": None if price is None else asdict(price),
        "attempts": completion.attempts, "stop_reason": completion.stop_reason}
    if price is None:
        raw["note"] = "model not in the price table: cost unknown"
    elif not reported:
        raw["note"] = "the provider reported no usage: cost unknown"
    return LLMUsage(model=f"{provider}/{model}", input_tokens=tokens.input,
                    output_tokens=tokens.output, cache_write_tokens=tokens.cache_write,
                    cache_read_tokens=tokens.cache_read,
                    cost_usd=price.cost(tokens) if price is not None and reported else None,
                    raw=raw)
