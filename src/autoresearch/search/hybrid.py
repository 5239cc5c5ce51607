"""LLM for structure, offline search for numbers, interleaved.

The turn is decided from the history alone, so a resumed run carries on the same pattern:
- after a kept LLM change, the next `tune_after_keep` experiments tune that code's knobs offline
  (its numbers were the model's guesses; the search is better at those);
- otherwise every `offline_every`-th experiment is an offline knob step;
- every other turn goes to the LLM, and so does an offline turn the knob search cannot take
  (the parent has no annotated knobs, or every nearby setting was tried).
"""

from __future__ import annotations

from dataclasses import replace

from autoresearch.errors import ProposalError
from autoresearch.records import Experiment, Mode, Proposal, Status
from autoresearch.search.lineage import MergePlan
from autoresearch.search.llm import LLMProposer
from autoresearch.search.offline import OfflineProposer
from autoresearch.search.proposer import ProposalContext


class HybridProposer:
    name = "hybrid"
    resolves_merges = True  # by its model

    def __init__(self, llm: LLMProposer, offline: OfflineProposer, *, tune_after_keep: int = 2,
                 offline_every: int = 3) -> None:
        self.llm, self.offline = llm, offline
        self.tune_after_keep, self.offline_every = tune_after_keep, offline_every

    @property
    def description(self) -> str:
        return (f"hybrid: {self.llm.description} for structure; offline knob search for one "
                f"experiment in {self.offline_every} and for {self.tune_after_keep} after each "
                "kept LLM change")

    def propose(self, context: ProposalContext) -> Proposal:
        if isinstance(context.suggestion, MergePlan):
            return self.llm.propose(context)
        tune = self._tuning_target(context.history)
        if tune is not None:
            context = replace(context, parent=tune)
        if tune is not None or context.number % self.offline_every == 0:
            try:
                return self.offline.propose(context)
            except ProposalError:
                pass  # nothing left to tune here: the model takes the turn
        return self.llm.propose(context)

    def _tuning_target(self, history: tuple[Experiment, ...]) -> Experiment | None:
        """The last kept LLM experiment while its knobs have had fewer tuning turns than due."""
        searched = [e for e in history if e.proposal.mode is not Mode.BASELINE]
        for i in range(len(searched) - 1, -1, -1):
            e = searched[i]
            if e.proposal.proposer == self.llm.name and e.status is Status.KEPT:
                tuned = sum(1 for later in searched[i + 1:]
                            if later.proposal.proposer.startswith(self.offline.name))
                return e if tuned < self.tune_after_keep else None
        return None
