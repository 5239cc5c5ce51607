"""Deciding from seed runs whether an experiment is kept.

A candidate's seed s is compared with the incumbent's seed s: the paired, direction-adjusted
differences d_s remove the seed's own effect (two seeds of one model differ far more than two
runs of one seed). By default the keep rule is a sequential test on the d_s: their standard
error comes from the study's run-to-run noise (repeats of the same code and seed) or from
their own spread, whichever is larger; the experiment is kept once the lower confidence bound
of the mean gain clears `min_delta`, dropped once the upper bound falls below it, and a near
tie gets another seed, up to `max_seeds`. A deterministic task (tabular CV repeats: a repeat
is bit-identical) has no run noise to model and uses the plain paired mean instead.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from autoresearch.analysis.ablation import verdict
from autoresearch.analysis.noise import Noise
from autoresearch.analysis.paired import Paired, interval, paired, t_quantile
from autoresearch.records import Experiment, FailureKind, SeedRun, Status
from autoresearch.tasks import Metric


@dataclass(frozen=True)
class Verdict:
    status: Status
    failure: FailureKind | None
    reason: str


def failure_of(runs: Iterable[SeedRun]) -> Verdict | None:
    """The candidate's own failure among its runs (a starved run is not its fault)."""
    for r in runs:
        if not r.ok and r.failure is not FailureKind.INTERFERED:
            kind = r.failure or FailureKind.CRASH
            return Verdict(kind.status, kind, f"seed {r.seed}: {r.reason}")
    return None


@dataclass(frozen=True)
class Acceptance:
    """`min_delta`: the practical-significance floor (metric units) a gain must clear;
    `alpha_keep` / `alpha_stop`: one-sided error rates of each look of the sequential test
    (keeping a neutral change; stopping a change whose gain clears the floor);
    `sequential=False`: the plain paired mean (deterministic tasks)."""

    metric: Metric
    min_delta: float = 0.0
    alpha_keep: float = 0.01
    alpha_stop: float = 0.05
    sequential: bool = True

    def judge(self, candidate: Experiment, incumbent: Experiment, noise: Noise,
              min_seeds: int, max_seeds: int) -> Verdict | None:
        """Kept, discarded, or None: run another seed (paired with the incumbent's)."""
        pair = paired(candidate, incumbent, self.metric, noise)
        if pair.n == 0:
            return None
        if not self.sequential:
            return self._mean_rule(pair, incumbent, min_seeds)
        if noise.sd is None and pair.n < 2:
            return None  # nothing yet says how large a difference noise makes
        t_keep = t_quantile(pair.dof, 1 - self.alpha_keep)
        t_stop = t_quantile(pair.dof, 1 - self.alpha_stop)
        low, high = pair.mean - t_keep * pair.se, pair.mean + t_stop * pair.se
        against = f"vs #{incumbent.number}: {pair.text()}"
        if pair.n >= min_seeds and low > self.min_delta:
            return Verdict(Status.KEPT, None,
                           f"{against}; credibly better: lower bound {low:+.4f} > "
                           f"{self.min_delta:g}")
        if high < self.min_delta:
            skipped = "; remaining seeds skipped" if pair.n < min_seeds else ""
            return Verdict(Status.DISCARDED, None,
                           f"{against}; not better: upper bound {high:+.4f} < "
                           f"{self.min_delta:g}{skipped}")
        if pair.n >= max_seeds:
            return Verdict(Status.DISCARDED, None,
                           f"{against}; a near tie after {pair.n} seeds (--max-seeds): gain "
                           f"between {low:+.4f} and {high:+.4f}, not credibly above "
                           f"{self.min_delta:g}")
        return None

    def effect(self, result: Experiment, ablated: Experiment, noise: Noise) -> Verdict:
        """An ablation's measurement: how much better `result` is than its code with some
        changes removed (paired seeds, two-sided 95 % interval). Never a keep."""
        pair = paired(result, ablated, self.metric, noise)
        if pair.n == 0:
            return Verdict(Status.MEASURED, None, "no seed in common with the result")
        low, high = interval(pair)
        return Verdict(Status.MEASURED, None,
                       f"effect of the change {pair.mean:+.4f} (95 % {low:+.4f} .. "
                       f"{high:+.4f}): {verdict(Status.MEASURED, low, high)}; "
                       f"#{result.number} vs this: {pair.text()}")

    def close(self, candidate: Experiment, incumbent: Experiment, noise: Noise) -> bool:
        """A keep near the limit of credibility: the bound's margin is under half the gain."""
        pair = paired(candidate, incumbent, self.metric, noise)
        t_keep = t_quantile(pair.dof, 1 - self.alpha_keep)
        return t_keep * pair.se > pair.mean / 2

    def _mean_rule(self, pair: Paired, incumbent: Experiment, planned: int) -> Verdict | None:
        against = f"vs #{incumbent.number}: {pair.text()}"
        if pair.mean < 0 and pair.n < planned:
            return Verdict(Status.DISCARDED, None, f"{against}; worse on seed "
                           f"{pair.diffs[0][0]}: remaining seeds skipped")
        if pair.n < planned:
            return None
        if pair.mean > self.min_delta:
            return Verdict(Status.KEPT, None, f"{against}; gain {pair.mean:+.4f} > "
                           f"{self.min_delta:g}")
        return Verdict(Status.DISCARDED, None, f"{against}; gain {pair.mean:+.4f} does not "
                       f"exceed {self.min_delta:g}")
