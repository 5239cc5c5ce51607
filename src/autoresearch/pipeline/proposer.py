"""Proposers of the tabular search: combos the strategy chose, rendered from the templates;
and LLM turns, where a slot proposer writes a new implementation of one slot that is tried in
the current best combo (its code diff is stored with the experiment).

`SlotProposer` is the hook for LLM turns (a Python API: any object with `propose(SlotContext)`);
`LLMSlotProposer` is the chat-model version, with the study's --max-cost and its cost recorded.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Protocol

from jinja2 import Environment, PackageLoader, StrictUndefined

from autoresearch.analysis.combo import Combo, combo_of
from autoresearch.analysis.pipeline import Interaction, Pruned, SlotRanking, interactions, pruned
from autoresearch.analysis.pipeline import slot_rankings as rankings_of
from autoresearch.errors import ProposalError
from autoresearch.llm import ChatModel, ChatRequest, PriceTable
from autoresearch.llm.parsing import find_json_object, strip_fence
from autoresearch.llm.pricing import usage_record
from autoresearch.metric import Direction, Metric
from autoresearch.pipeline.catalog import Renderer
from autoresearch.pipeline.fold import SLOT_FUNCTIONS
from autoresearch.records import Experiment, LLMUsage, Mode, Proposal
from autoresearch.search.llm import check_cost, price_for
from autoresearch.search.proposer import ProposalContext

TEMPLATES = "pipeline"


@dataclass(frozen=True)
class SlotContext:
    metric: Metric
    best: Experiment
    best_combo: Combo
    rankings: tuple[SlotRanking, ...]
    interactions: tuple[Interaction, ...]
    pruned: tuple[Pruned, ...]
    history: tuple[Experiment, ...]
    number: int  # the number the new experiment will get


@dataclass(frozen=True)
class SlotProposal:
    slot: str
    code: str  # the function definition, named after the slot
    description: str
    hypothesis: str = ""
    usage: LLMUsage | None = None


class SlotProposer(Protocol):
    name: str

    def propose(self, context: SlotContext) -> SlotProposal:
        """A new implementation; ProposalError when none can be had (recorded, run goes on)."""
        ...


class ComboProposer:
    """The turns of the tabular search: the strategy's combo, or a slot proposer's new
    implementation in the best combo on LLM turns."""

    def __init__(self, render: Renderer | None = None, slots: SlotProposer | None = None,
                 name: str = TEMPLATES) -> None:
        self.render, self.slots, self.name = render, slots, name

    @property
    def description(self) -> str:
        return "templates" + (f" + {self.slots.name} slot proposals" if self.slots else "")

    def propose(self, context: ProposalContext) -> Proposal:
        if context.mode is Mode.LLM:
            return self._slot(context)
        combo: Combo = context.suggestion
        return self._proposal(context, combo, self.name, context.note, None)

    def code(self, combo: Combo) -> str:
        return self.render.render(combo) if self.render is not None else combo_json(combo)

    def _proposal(self, context: ProposalContext, combo: Combo, proposer: str,
                  hypothesis: str, usage: LLMUsage | None, description: str = "") -> Proposal:
        parent = combo_of(context.parent)
        changed = combo.differences(parent) if parent is not None else []
        return Proposal(code=self.code(combo), description=description or combo.describe(),
                        category="+".join(changed) or "combo", mode=context.mode,
                        parent_id=context.parent.id, proposer=proposer, hypothesis=hypothesis,
                        knobs=combo.knobs(), usage=usage)

    def _slot(self, context: ProposalContext) -> Proposal:
        if self.slots is None:
            raise ProposalError("an LLM turn without a slot proposer", proposer=self.name)
        history = list(context.history)
        best_combo: Combo = context.suggestion
        proposal = self.slots.propose(SlotContext(
            metric=context.metric, best=context.parent, best_combo=best_combo,
            rankings=tuple(rankings_of(history, context.metric)),
            interactions=tuple(interactions(history, context.metric)[:10]),
            pruned=tuple(pruned(history, context.metric)), history=context.history,
            number=context.number))
        name = f"llm_{context.number}"
        combo = best_combo.replace(proposal.slot, name, {}, name, proposal.code)
        return self._proposal(context, combo, self.slots.name,
                              proposal.hypothesis or proposal.description, proposal.usage,
                              f"{proposal.slot}: {proposal.description}")


def combo_json(combo: Combo) -> str:
    import json

    return json.dumps(combo.knobs(), indent=2, sort_keys=True, default=str) + "\n"


def check_function(slot: str, code: str) -> str:
    """The code must parse and define exactly the slot's function at top level."""
    try:
        tree = ast.parse(code)
    except SyntaxError as exc:
        raise ProposalError(f"the proposed {slot} does not parse: line {exc.lineno}: "
                            f"{exc.msg}") from None
    names = [n.name for n in tree.body if isinstance(n, ast.FunctionDef)]
    if names != [slot] or len(tree.body) != 1:
        raise ProposalError(f"the proposal must be one top-level function named {slot}, got "
                            f"{names or 'no function'}")
    return code.strip() + "\n"


class LLMSlotProposer:
    """Asks a chat model (autoresearch.llm) for one slot implementation as a JSON reply."""

    name = "llm"

    def __init__(self, chat: ChatModel, prices: PriceTable, task: str, max_tokens: int = 4096,
                 max_cost: float | None = None) -> None:
        self.chat, self.prices, self.task = chat, prices, task
        self.max_tokens, self.max_cost = max_tokens, max_cost
        self.price = price_for(chat, prices, max_cost)
        self.env = Environment(loader=PackageLoader("autoresearch.pipeline", "prompts"),
                               undefined=StrictUndefined, keep_trailing_newline=True)

    def propose(self, context: SlotContext) -> SlotProposal:
        direction = "lower" if context.metric.direction is Direction.MIN else "higher"
        request = ChatRequest(
            system=self.env.get_template("slot_system.md.j2").render(
                metric=context.metric.name, direction=direction),
            user=self.env.get_template("slot_user.md.j2").render(
                task=self.task, metric=context.metric.name, direction=direction,
                best_score=f"{context.best.metric_mean:.4f}", best_number=context.best.number,
                best_code=context.best.code, rankings=context.rankings,
                interactions=context.interactions, pruned=context.pruned),
            max_tokens=self.max_tokens)
        check_cost(context.history, context.metric, request, self.price, self.max_cost)
        completion = self.chat.complete(request)
        usage = usage_record(completion, self.chat.provider, self.chat.model, self.prices)
        data = find_json_object(completion.text)
        if data is None or data.get("slot") not in SLOT_FUNCTIONS \
                or not isinstance(data.get("code"), str):
            raise ProposalError("the reply holds no JSON object with a known slot and code",
                                usage=usage, proposer=self.name)
        slot = str(data["slot"])
        try:
            code = check_function(slot, strip_fence(data["code"]))
        except ProposalError as exc:
            raise ProposalError(str(exc), usage=usage, proposer=self.name) from None
        return SlotProposal(slot=slot, code=code,
                            description=str(data.get("description") or f"new {slot}")[:200],
                            hypothesis=str(data.get("hypothesis") or "")[:500], usage=usage)
