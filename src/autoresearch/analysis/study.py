"""Derived views of a study, computed from its experiments on read (nothing here is stored).

Shared by `status`, the dashboard and the report so they always agree.
"""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field

from autoresearch.analysis.noise import Noise, noise_of
from autoresearch.metric import Metric
from autoresearch.records import Experiment, Mode, Status


@dataclass(frozen=True)
class Summary:
    experiments: int  # excluding the baseline
    kept: int  # excluding the baseline
    running: int
    failures: dict[str, int]  # failure kind -> count
    baseline: Experiment | None
    best: Experiment | None
    gain: float | None  # best vs baseline, metric units, positive = better
    cost_usd: float
    per_hour: float | None
    last_result_at: float | None
    wall_seconds: float
    noise: Noise  # run-to-run noise of one seed, what the keep rule weighs gains against
    ablations: int = 0  # experiments run by `ablate`, not counted in `experiments`


def baseline_of(experiments: list[Experiment]) -> Experiment | None:
    return next((e for e in experiments if e.proposal.mode is Mode.BASELINE), None)


def best_of(experiments: list[Experiment], metric: Metric) -> Experiment | None:
    kept = [e for e in experiments if e.status is Status.KEPT and e.metric_mean is not None]
    return min(kept, key=lambda e: metric.sort_key(e.metric_mean), default=None)


def summarize(experiments: list[Experiment], metric: Metric) -> Summary:
    baseline = baseline_of(experiments)
    best = best_of(experiments, metric)
    # Ablations measure a result; they are not moves of the search.
    others = [e for e in experiments
              if e is not baseline and e.proposal.mode is not Mode.ABLATION]
    finished = [e.finished_at for e in experiments if e.finished_at is not None]
    started = min((e.created_at for e in experiments), default=None)
    span = (max(finished) - started) if finished and started is not None else 0.0
    done = sum(1 for e in others if e.status.finished)
    gain = None
    if best is not None and baseline is not None and baseline.metric_mean is not None:
        gain = metric.gain(best.metric_mean or 0.0, baseline.metric_mean)
    return Summary(
        experiments=len(others),
        ablations=sum(1 for e in experiments if e.proposal.mode is Mode.ABLATION),
        kept=sum(1 for e in others if e.status is Status.KEPT),
        running=sum(1 for e in others if not e.status.finished),
        failures=dict(Counter(e.failure.value for e in others if e.failure is not None)),
        baseline=baseline,
        best=best,
        gain=gain,
        cost_usd=sum((e.proposal.usage.cost_usd or 0.0) for e in experiments
                     if e.proposal.usage is not None),
        per_hour=done / (span / 3600) if span > 0 and done else None,
        last_result_at=max(finished) if finished else None,
        wall_seconds=span,
        noise=noise_of(experiments),
    )


def best_so_far(experiments: list[Experiment], metric: Metric) -> list[tuple[int, float]]:
    """(experiment number, best kept mean up to and including it), in order of number."""
    series: list[tuple[int, float]] = []
    best: float | None = None
    for e in sorted(experiments, key=lambda e: e.number):
        if e.status is Status.KEPT and e.metric_mean is not None \
                and (best is None or metric.is_better(e.metric_mean, best)):
            best = e.metric_mean
        if best is not None:
            series.append((e.number, best))
    return series


@dataclass(frozen=True)
class CategoryStats:
    category: str
    tried: int
    kept: int
    gains: list[float] = field(default_factory=list)  # gain over the parent when kept

    @property
    def mean_gain(self) -> float | None:
        return statistics.fmean(self.gains) if self.gains else None


def by_category(experiments: list[Experiment], metric: Metric) -> list[CategoryStats]:
    """Tried / kept / mean gain over the parent, per category (baseline excluded)."""
    by_id = {e.id: e for e in experiments}
    rows: dict[str, CategoryStats] = {}
    for e in experiments:
        if e.proposal.mode is Mode.BASELINE:
            continue
        row = rows.setdefault(e.proposal.category, CategoryStats(e.proposal.category, 0, 0))
        gains = list(row.gains)
        parent = by_id.get(e.proposal.parent_id or -1)
        kept = e.status is Status.KEPT
        if kept and parent is not None and parent.metric_mean is not None \
                and e.metric_mean is not None:
            gains.append(metric.gain(e.metric_mean, parent.metric_mean))
        rows[row.category] = CategoryStats(row.category, row.tried + 1, row.kept + kept, gains)
    return sorted(rows.values(), key=lambda r: (-r.tried, r.category))


def lineage(experiments: list[Experiment]) -> dict[int, list[int]]:
    """Experiment number -> numbers of its children."""
    number = {e.id: e.number for e in experiments}
    children: dict[int, list[int]] = {e.number: [] for e in experiments}
    for e in experiments:
        parent = number.get(e.proposal.parent_id or -1)
        if parent is not None:
            children[parent].append(e.number)
    return children
