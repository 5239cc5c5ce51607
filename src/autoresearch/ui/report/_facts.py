"""What the report states, computed from a study's experiments; no rendering here."""

from __future__ import annotations

import difflib
from collections import Counter
from dataclasses import dataclass

from autoresearch.analysis.study import baseline_of
from autoresearch.metric import Metric
from autoresearch.records import Experiment, Mode, Status

TOP = 5
EXAMPLES = 3  # failure reasons quoted per kind


@dataclass(frozen=True)
class Ranked:
    """One of the top experiments, with the diffs that explain it."""

    rank: int
    experiment: Experiment
    gain: float | None  # over the baseline, metric units, positive = better
    previous: Experiment | None  # the next-better experiment, diffed against this one
    diff_previous: str
    diff_baseline: str


@dataclass(frozen=True)
class FailureRow:
    kind: str
    status: str
    count: int
    share: float  # of all experiments besides the baseline
    examples: tuple[tuple[int, str], ...]  # (experiment number, reason), most recent first


@dataclass(frozen=True)
class CostPoint:
    number: int
    cost_usd: float  # this experiment's LLM calls
    cumulative_usd: float
    kept: bool


def diff(old: Experiment, new: Experiment) -> str:
    return "".join(difflib.unified_diff(
        old.code.splitlines(keepends=True), new.code.splitlines(keepends=True),
        f"experiment-{old.number}", f"experiment-{new.number}"))


def scored(experiments: list[Experiment]) -> list[Experiment]:
    """Finished experiments with a metric, the baseline excluded."""
    return [e for e in experiments if e.proposal.mode is not Mode.BASELINE
            and e.status in (Status.KEPT, Status.DISCARDED) and e.metric_mean is not None]


def top(experiments: list[Experiment], metric: Metric, n: int = TOP) -> list[Ranked]:
    baseline = baseline_of(experiments)
    base_mean = baseline.metric_mean if baseline is not None else None
    # Kept first: a discarded experiment may score well on the one seed it ran, but the
    # kept ones are what the research found (and #1 is then the summary's best).
    best = sorted(scored(experiments), key=lambda e: (e.status is not Status.KEPT,
                                                      metric.sort_key(e.metric_mean), e.number))
    ranked: list[Ranked] = []
    for i, e in enumerate(best[:n]):
        previous = best[i - 1] if i else None
        ranked.append(Ranked(
            rank=i + 1, experiment=e,
            gain=None if base_mean is None or e.metric_mean is None
            else metric.gain(e.metric_mean, base_mean),
            previous=previous,
            diff_previous=diff(e, previous) if previous is not None else "",
            diff_baseline=diff(baseline, e) if baseline is not None else "",
        ))
    return ranked


def failures(experiments: list[Experiment]) -> list[FailureRow]:
    others = [e for e in experiments if e.proposal.mode is not Mode.BASELINE]
    failed = [e for e in others if e.failure is not None]
    counts = Counter(e.failure.value for e in failed if e.failure is not None)
    rows = []
    for kind, count in counts.most_common():
        of_kind = [e for e in reversed(failed) if e.failure is not None
                   and e.failure.value == kind]
        rows.append(FailureRow(
            kind=kind, status=of_kind[0].status.value, count=count,
            share=count / len(others),
            examples=tuple((e.number, e.reason) for e in of_kind[:EXAMPLES]),
        ))
    return rows


def costs(experiments: list[Experiment]) -> list[CostPoint]:
    """Cumulative LLM cost by experiment; empty when no call had a cost."""
    if not any(e.proposal.usage is not None and e.proposal.usage.cost_usd
               for e in experiments):
        return []
    points, total = [], 0.0
    for e in sorted(experiments, key=lambda e: e.number):
        cost = (e.proposal.usage.cost_usd or 0.0) if e.proposal.usage is not None else 0.0
        total += cost
        points.append(CostPoint(e.number, cost, total, e.status is Status.KEPT))
    return points


def kept_with_seeds(experiments: list[Experiment]) -> list[Experiment]:
    """Kept experiments (baseline first) with at least one scored seed: the noise picture."""
    return [e for e in sorted(experiments, key=lambda e: e.number)
            if e.status is Status.KEPT and e.scores]


def models(experiments: list[Experiment]) -> list[str]:
    """Who proposed: LLM models by name, otherwise the proposer (e.g. the offline search)."""
    names: list[str] = []
    for e in experiments:
        if e.proposal.mode is Mode.BASELINE:
            continue
        usage = e.proposal.usage
        name = usage.model if usage is not None and usage.model else e.proposal.proposer
        if name not in names:
            names.append(name)
    return names


def compute_seconds(experiments: list[Experiment]) -> float:
    return sum(r.wall_seconds for e in experiments for r in e.seed_runs)
