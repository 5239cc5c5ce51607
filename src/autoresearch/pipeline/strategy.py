"""The tabular search as an engine Strategy: rounds of EXPLORE / EXPLOIT / COMBINE / NARROW
(modes.py) with pruning after the first round, and LLM turns when a model is configured.

Everything is decided from the history (combos are stored as knobs), so a resumed study goes
on where it stopped; the engine asks for as many plans as it has free workers, and combos
already tried or in flight are never planned again.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass

from autoresearch.analysis.combo import combo_of
from autoresearch.analysis.pipeline import pruned
from autoresearch.analysis.study import best_of
from autoresearch.metric import Metric
from autoresearch.pipeline.modes import Planner, Skips
from autoresearch.pipeline.space import Implementation, SearchSpace
from autoresearch.records import Experiment, Mode
from autoresearch.search.strategy import Plan

FALLBACK = (Mode.EXPLOIT, Mode.COMBINE, Mode.NARROW, Mode.EXPLORE)


@dataclass(frozen=True)
class LLMTurns:
    """Which experiments are LLM turns: from the `start`-th on, one in `every`."""

    every: int
    start: int

    def due(self, done: int) -> bool:
        return done >= self.start and (done - self.start) % self.every == self.every - 1


class PipelineStrategy:
    def __init__(self, space: SearchSpace, metric: Metric, *, budget_per_round: int = 10,
                 prune_margin: float | None = None, llm: LLMTurns | None = None) -> None:
        if budget_per_round < 1:
            raise ValueError("budget_per_round must be at least 1")
        self.space, self.metric, self.budget = space, metric, budget_per_round
        self.prune_margin, self.llm = prune_margin, llm

    def best(self, history: Sequence[Experiment]) -> Experiment | None:
        return best_of(list(history), self.metric)

    def space_of(self, history: Sequence[Experiment]) -> SearchSpace:
        """The catalog plus the implementations models wrote during the study."""
        space = self.space
        for e in history:
            combo = combo_of(e)
            for slot, code in (combo.sources if combo else {}).items():
                name = combo.slots[slot]  # type: ignore[union-attr]
                if space.get(slot, name) is None:
                    space = space.with_implementation(Implementation(slot, name, name,
                                                                     code=code))
        return space

    def skips(self, history: list[Experiment], space: SearchSpace) -> Skips:
        items = pruned(history, self.metric, self.prune_margin, space.model_slot or None)
        if _done(history) < self.budget:  # families are judged after the first round
            items = [p for p in items if p.kind == "crashes"]
        return Skips.of(items)

    def plans(self, history: Sequence[Experiment], number: int, rng: random.Random,
              busy: frozenset[int], count: int) -> list[Plan]:
        history = list(history)
        space = self.space_of(history)
        planner = Planner(space, self.metric, rng)
        skips = self.skips(history, space)
        seen = {c.key for e in history if (c := combo_of(e)) is not None}
        fallback = next(e for e in history if e.proposal.mode is Mode.BASELINE)
        done = _done(history)
        out: list[Plan] = []
        for i in range(count):
            best = self.best(history)
            if self.llm is not None and self.llm.due(done + i) and best is not None:
                out.append(Plan(Mode.LLM, best, combo_of(best), "a new slot implementation"))
                continue
            mode = self._mode(done + i, planner, history, skips)
            for chosen in (mode, *(m for m in FALLBACK if m is not mode)):
                found = planner.plan(chosen, history, 1, skips, seen)
                if found:
                    candidate = found[0]
                    out.append(Plan(chosen, candidate.parent or fallback, candidate.combo,
                                    candidate.hypothesis))
                    break
            else:
                break  # the space is exhausted
        return out

    def _mode(self, done: int, planner: Planner, history: list[Experiment],
              skips: Skips) -> Mode:
        """A round: coverage first (the whole first round, half of later ones at most),
        then half exploitation, a quarter crossovers, the rest small steps."""
        first = done < self.budget
        gaps = len(planner.coverage_gaps(history, skips))
        explore = min(gaps, self.budget if first else self.budget // 2)
        rest = self.budget - explore
        exploit, combine = math.ceil(rest / 2), rest // 4
        sequence = ([Mode.EXPLORE] * explore + [Mode.EXPLOIT] * exploit
                    + [Mode.COMBINE] * combine)
        position = done % self.budget
        return sequence[position] if position < len(sequence) else Mode.NARROW


def _done(history: Sequence[Experiment]) -> int:
    return sum(1 for e in history if e.proposal.mode is not Mode.BASELINE)


