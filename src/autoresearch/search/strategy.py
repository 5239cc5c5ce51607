"""Which parent to build on next, and in which mode."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from autoresearch.records import Experiment, Mode, Status
from autoresearch.search.lineage import merge_candidates
from autoresearch.tasks import Metric


@dataclass(frozen=True)
class Plan:
    mode: Mode
    parent: Experiment
    suggestion: Any = None  # what to try, when the strategy decides it (a pipeline combo)
    note: str = ""  # why: the hypothesis behind the suggestion


class SearchStrategy(Protocol):
    """Who the parent is and in which mode; the engine asks for up to `count` plans at a time
    (one per free worker) and stops when a strategy has none left."""

    def best(self, history: Sequence[Experiment]) -> Experiment | None: ...

    def plans(self, history: Sequence[Experiment], number: int, rng: random.Random,
              busy: frozenset[int], count: int) -> list[Plan]:
        """`number`: the number the first new experiment gets; `busy`: ids of parents with an
        experiment in flight."""
        ...


@dataclass(frozen=True)
class Strategy:
    """Top-k parents sampled 70/20/10; every Nth an exploration; diversify after a dry spell."""

    metric: Metric
    top_k: int = 3
    weights: tuple[float, ...] = (0.7, 0.2, 0.1)
    explore_every: int = 5
    patience: int = 5
    duplicate_parents: bool = False
    merges: bool = True  # propose the merge of two kept branches that changed different things
    resolve_conflicts: bool = False  # also those whose three-way merge conflicted (an LLM's)

    def ranked(self, history: Sequence[Experiment]) -> list[Experiment]:
        kept = [e for e in history if e.status is Status.KEPT and e.metric_mean is not None]
        return sorted(kept, key=lambda e: self.metric.sort_key(e.metric_mean))

    def best(self, history: Sequence[Experiment]) -> Experiment | None:
        ranked = self.ranked(history)
        return ranked[0] if ranked else None

    def discards_in_a_row(self, history: Sequence[Experiment]) -> int:
        count = 0
        for experiment in reversed([e for e in history if e.status.finished
                                    and e.status is not Status.MEASURED]):
            if experiment.status is Status.KEPT:
                break
            count += 1
        return count

    def plans(self, history: Sequence[Experiment], number: int, rng: random.Random,
              busy: frozenset[int], count: int) -> list[Plan]:
        """One plan at a time: each experiment's mode follows from the history before it."""
        return [self.plan(history, number, rng, busy)]

    def plan(self, history: Sequence[Experiment], number: int,
             rng: random.Random, busy: frozenset[int] = frozenset()) -> Plan:
        """`busy`: ids of parents with an experiment in flight, avoided unless
        `duplicate_parents` is set or every kept experiment is busy."""
        ranked = self.ranked(history)
        if not ranked:
            raise ValueError("no kept experiment to build on: run the baseline first")
        free = ranked if self.duplicate_parents else [e for e in ranked if e.id not in busy]
        merge = next((m for m in merge_candidates(history, free[: self.top_k])
                      if m.code is not None or self.resolve_conflicts), None) \
            if self.merges else None
        if merge is not None:  # two branches changed different things: try both at once
            return Plan(Mode.MERGE, merge.ours, merge, merge.describe())
        dry = self.discards_in_a_row(history)
        if dry >= self.patience and dry % self.patience == 0:
            return Plan(Mode.DIVERSIFICATION, self._runner_up(history, free or ranked, rng))
        if number % self.explore_every == 0:
            return Plan(Mode.EXPLORATION, (free or ranked)[0])
        top = (free or ranked)[: self.top_k]
        weights = list(self.weights[: len(top)])
        return Plan(Mode.INCREMENTAL, rng.choices(top, weights=weights, k=1)[0])

    def _runner_up(self, history: Sequence[Experiment],
                   ranked: list[Experiment], rng: random.Random) -> Experiment:
        if len(ranked) > 1:
            return rng.choice(ranked[1 : self.top_k + 2])
        # Only the best was ever kept: the best scored near-miss is the next most promising.
        near = sorted((e for e in history if e.status is Status.DISCARDED
                       and e.metric_mean is not None),
                      key=lambda e: self.metric.sort_key(e.metric_mean))
        return near[0] if near else ranked[0]
