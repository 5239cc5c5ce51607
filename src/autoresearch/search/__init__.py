"""Search: who the parent is, which mode, who proposes, and what is kept."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from autoresearch.errors import UsageError
from autoresearch.search.offline import OfflineProposer
from autoresearch.search.proposer import ProposalContext, Proposer

if TYPE_CHECKING:
    from autoresearch.llm import ChatModel, PriceTable

__all__ = ["LLMOptions", "OfflineProposer", "ProposalContext", "Proposer", "connect_llm",
           "make_proposer"]

PROPOSERS = ("auto", "offline", "llm", "hybrid")


@dataclass(frozen=True)
class LLMOptions:
    """The LLM choices of a run, as given on the command line (keys come from the env only)."""

    provider: str | None = None
    model: str | None = None
    base_url: str | None = None
    max_cost: float | None = None
    max_tokens: int | None = None
    timeout: float | None = None


def connect_llm(kind: str, llm: LLMOptions | None = None, env: Mapping[str, str] | None = None,
                notify: Callable[[str], None] | None = None
                ) -> tuple[ChatModel, PriceTable] | None:
    """The chat model and price table `--proposer KIND` asks for; None when `auto` finds no
    provider, or a key without its SDK (said through `notify`), and for `offline`."""
    if kind not in PROPOSERS:
        raise UsageError(f"--proposer must be one of {', '.join(PROPOSERS)}, got {kind!r}")
    if kind == "offline":
        return None
    # Imported here: an offline run needs neither the SDKs nor the templates.
    from autoresearch.llm import DEFAULT_TIMEOUT, PriceTable, connect, resolve, sdk_installed

    options = llm or LLMOptions()
    env = os.environ if env is None else env
    prices = PriceTable.load(env)
    endpoint = resolve(options.provider, options.model, options.base_url, env,
                       prices.models_by_provider())
    if endpoint is None:
        if kind == "auto":
            return None
        raise UsageError(f"--proposer {kind} needs a provider: set ANTHROPIC_API_KEY (or "
                         "OPENAI_API_KEY, GEMINI_API_KEY, OPENROUTER_API_KEY, TOGETHER_API_KEY, "
                         "DEEPSEEK_API_KEY), or pass --provider ollama or --base-url URL; or use "
                         "--proposer offline")
    if kind == "auto" and not sdk_installed(endpoint):
        (notify or print)(f"{endpoint.preset.key_env} is set but the {endpoint.preset.protocol} "
                          "SDK is not installed (pip install 'autoresearch[llm]'): searching "
                          "offline")
        return None
    if options.max_cost is not None and options.max_cost < 0:
        raise UsageError(f"--max-cost must be >= 0 USD, got {options.max_cost:g}")
    return connect(endpoint, timeout=options.timeout or DEFAULT_TIMEOUT, notify=notify), prices


def make_proposer(kind: str, seed: int = 0, *, llm: LLMOptions | None = None,
                  env: Mapping[str, str] | None = None, budget_seconds: float = 0.0,
                  notify: Callable[[str], None] | None = None,
                  fixed_knobs: frozenset[str] = frozenset()) -> Proposer:
    """`offline`; `llm` (the model alone); `hybrid` (the model for structure, the offline search
    for knobs); `auto`: hybrid when a provider is named or a key is set, else offline.
    `fixed_knobs`: knobs the offline search must leave alone (the script overrides them)."""
    offline = OfflineProposer(seed=seed, fixed=fixed_knobs)
    connected = connect_llm(kind, llm, env, notify)
    if connected is None:
        return offline
    from autoresearch.search.hybrid import HybridProposer
    from autoresearch.search.llm import LLMProposer, LLMSettings

    chat, prices = connected
    options = llm or LLMOptions()
    settings = LLMSettings(max_tokens=options.max_tokens or LLMSettings.max_tokens,
                           max_cost=options.max_cost, knob_tuning=kind != "llm")
    proposer = LLMProposer(chat, prices, budget_seconds, settings)
    return proposer if kind == "llm" else HybridProposer(proposer, offline)
