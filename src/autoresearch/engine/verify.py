"""Checking a study's claims: does a result reproduce (replay), and which of the kept changes
behind it mattered (ablation). Both run on the study's loop, so their runs are stored like
any other: a replay's as further measurements of the experiment, an ablation's as experiments
of their own mode that end MEASURED (never the best).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from autoresearch.analysis.ablation import verdict
from autoresearch.analysis.entities import entity_changes, summarize
from autoresearch.analysis.paired import Paired, interval, paired
from autoresearch.engine.loop import ResearchLoop
from autoresearch.records import Experiment, Mode, Proposal, SeedRun, Status
from autoresearch.search.lineage import Ablation, Link, ablations, chain, without
from autoresearch.search.offline import parse_values


@dataclass(frozen=True)
class Replayed:
    """The experiment's runs before the replay and the replay's, paired by seed."""

    before: Experiment
    after: Experiment
    pair: Paired  # replay minus original, direction-adjusted (positive: the replay is better)
    low: float
    high: float

    @property
    def runs(self) -> tuple[SeedRun, ...]:
        """The replay's own runs."""
        return self.after.seed_runs[len(self.before.seed_runs):]

    @property
    def reproduces(self) -> bool:
        return self.pair.n > 0 and self.low <= 0 <= self.high

    def describe(self) -> str:
        if self.pair.n == 0:
            return "no seed of the replay could be paired with a recorded one"
        word = "reproduces" if self.reproduces else "does NOT reproduce"
        return (f"#{self.after.number} {word} within the study's noise: replay minus recorded "
                f"{self.pair.mean:+.4f} (95 % {self.low:+.4f} .. {self.high:+.4f}); "
                f"{self.pair.text()}")


def replay(loop: ResearchLoop, experiment: Experiment, seeds: tuple[int, ...]) -> Replayed:
    """Run `experiment`'s exact code again on `seeds` and compare with what was recorded."""
    after = loop.remeasure(experiment, seeds)
    new = replace(after, seed_runs=after.seed_runs[len(experiment.seed_runs):])
    pair = paired(new, experiment, loop.study.metric, loop.noise())
    low, high = interval(pair)
    return Replayed(experiment, after, pair, low, high)


@dataclass(frozen=True)
class Row:
    """One ablation: the changes removed, and what removing them did to the result."""

    removed: tuple[Link, ...]
    experiment: Experiment  # the ablation experiment as stored
    effect: Paired | None  # the result minus the ablated code (positive: the change helped)
    low: float = 0.0
    high: float = 0.0

    @property
    def verdict(self) -> str:
        return verdict(self.experiment.status, self.low, self.high)

    @property
    def idle(self) -> bool:
        """The result holds without the change (or is better)."""
        return self.verdict in ("no effect", "hurt")


@dataclass(frozen=True)
class Ablated:
    target: Experiment
    links: list[Link]
    rows: list[Row]
    skipped: list[str]
    minimal: Row | None  # every change without an effect removed at once (None: not tried)
    kept: str  # the entity changes from the baseline that the result needs


def ablate(loop: ResearchLoop, target: Experiment) -> Ablated:
    """Remove each kept change behind `target` (and pairs touching the same entity), measure
    each variant on the target's seeds; then remove every change without an effect at once,
    and measure that too: the smallest diff that keeps the gain."""
    links = chain(loop.history(), target)
    plans, skipped = ablations(target, links)
    rows = [_row(loop, target, plan) for plan in plans]
    idle = tuple(r.removed[0] for r in rows if len(r.removed) == 1 and r.idle)
    minimal, smallest = None, target.code
    if len(idle) == 1:
        minimal = next(r for r in rows if r.removed == idle)
        smallest = minimal.experiment.code
    elif idle:
        code = without(target.code, idle)
        if code is None:
            skipped.append("the changes without an effect cannot be removed together cleanly")
        else:
            minimal = _row(loop, target, Ablation(idle, code))
            smallest = code if minimal.idle else target.code
    baseline = links[0].parent if links else target
    return Ablated(target, links, rows, skipped, minimal,
                   summarize(entity_changes(baseline.code, smallest), limit=12))


def _row(loop: ResearchLoop, target: Experiment, plan: Ablation) -> Row:
    proposal = Proposal(code=plan.code, description=plan.label, category="ablation",
                        mode=Mode.ABLATION, parent_id=target.id, proposer="ablate",
                        hypothesis=_removed(*plan.removed), knobs=parse_values(plan.code))
    measured = loop.measure(proposal, target)
    current = next(e for e in loop.history() if e.id == target.id)
    if measured.status is not Status.MEASURED:
        return Row(plan.removed, measured, None)
    effect = paired(current, measured, loop.study.metric, loop.noise())
    low, high = interval(effect)
    return Row(plan.removed, measured, effect, low, high)


def _removed(*links: Link) -> str:
    """What an ablation experiment records as removed."""
    return "removes " + "; ".join(link.describe() for link in links)
