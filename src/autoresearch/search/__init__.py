"""Search: who the parent is, which mode, who proposes, and what is kept."""

from __future__ import annotations

from autoresearch.errors import UsageError
from autoresearch.search.offline import OfflineProposer
from autoresearch.search.proposer import ProposalContext, Proposer

__all__ = ["OfflineProposer", "ProposalContext", "Proposer", "make_proposer"]

PROPOSERS = ("auto", "offline", "llm")


def make_proposer(kind: str, seed: int = 0) -> Proposer:
    """`auto` is offline until an LLM adapter exists; `llm` says so instead of guessing."""
    if kind not in PROPOSERS:
        raise UsageError(f"--proposer must be one of {', '.join(PROPOSERS)}, got {kind!r}")
    if kind == "llm":
        raise UsageError("no LLM proposer is available in this version; use --proposer offline "
                         "(LLM providers are tracked in the project's issues)")
    return OfflineProposer(seed=seed)
