"""The hook for LLM rounds: a slot proposer writes a new implementation of one slot.

The coordinator hands it the per-slot rankings, the interactions and what was pruned; the
implementation it returns is validated, sandboxed and tested against the current best combo
(the best with that one slot replaced), and its code diff is stored with the experiment.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Protocol

from jinja2 import Environment, PackageLoader, StrictUndefined

from autoresearch.analysis.combo import Combo
from autoresearch.analysis.pipeline import Interaction, Pruned, SlotRanking
from autoresearch.errors import ProposalError
from autoresearch.metric import Direction, Metric
from autoresearch.pipeline.space import SearchSpace
from autoresearch.records import Experiment, LLMUsage

SLOT_FUNCTIONS = ("load_data", "engineer_features", "build_model")


@dataclass(frozen=True)
class SlotContext:
    metric: Metric
    space: SearchSpace
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

    def __init__(self, chat: object, task: str, max_tokens: int = 4096) -> None:
        self.chat, self.task, self.max_tokens = chat, task, max_tokens
        self.env = Environment(loader=PackageLoader("autoresearch.pipeline", "prompts"),
                               undefined=StrictUndefined, keep_trailing_newline=True)

    def propose(self, context: SlotContext) -> SlotProposal:
        from autoresearch.llm import ChatRequest
        from autoresearch.llm.parsing import find_json_object, strip_fence

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
        completion = self.chat.complete(request)  # type: ignore[attr-defined]
        tokens = completion.tokens
        usage = LLMUsage(model=f"{self.chat.provider}/{self.chat.model}",  # type: ignore[attr-defined]
                         input_tokens=tokens.input, output_tokens=tokens.output,
                         cache_write_tokens=tokens.cache_write,
                         cache_read_tokens=tokens.cache_read,
                         raw={"usage": completion.raw_usage, "stop": completion.stop_reason})
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
