"""Paired differences between two experiments: seed s of one against seed s of the other.

Two seeds of one model differ far more than two runs of one seed, so comparing seed by seed
removes the seed's own effect; the standard error of the mean difference comes from the
study's run-to-run noise or from the differences' own spread, whichever is larger. The keep
rule (search/acceptance.py), ablations, replays and every view read it here.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass

from autoresearch.analysis.noise import Noise
from autoresearch.metric import Metric
from autoresearch.records import Experiment


@dataclass(frozen=True)
class Paired:
    """The candidate's gains over the incumbent, seed by seed, and their uncertainty."""

    diffs: tuple[tuple[int, float], ...]  # (seed, gain in metric units; positive = better)
    mean: float
    se: float  # standard error of the mean gain
    dof: int

    @property
    def n(self) -> int:
        return len(self.diffs)

    def text(self) -> str:
        gains = ", ".join(f"s{seed} {d:+.4f}" for seed, d in self.diffs)
        return f"paired gains [{gains}] mean {self.mean:+.4f} ± {self.se:.4f} (se)"


def paired(candidate: Experiment, incumbent: Experiment, metric: Metric, noise: Noise) -> Paired:
    """Gains on the seeds both have scored, each seed's score a mean over its measurements."""
    mine, theirs = candidate.seed_scores, incumbent.seed_scores
    seeds = [s for s in mine if s in theirs]
    diffs = tuple((s, metric.gain(mine[s], theirs[s])) for s in seeds)
    n = len(diffs)
    if n == 0:
        return Paired((), 0.0, math.inf, 0)
    counts = _measurements(candidate), _measurements(incumbent)
    # Run noise of a difference of two means of m_c and m_i runs: sd^2 (1/m_c + 1/m_i).
    share = statistics.fmean(1 / counts[0][s] + 1 / counts[1][s] for s in seeds)
    from_noise = (noise.sd or 0.0) * math.sqrt(share)
    spread = statistics.stdev(d for _, d in diffs) if n > 1 else 0.0
    sd = max(from_noise, spread)
    return Paired(diffs, statistics.fmean(d for _, d in diffs), sd / math.sqrt(n),
                  noise.dof + n - 1)


def _measurements(experiment: Experiment) -> dict[int, int]:
    counts: dict[int, int] = {}
    for r in experiment.seed_runs:
        if r.ok:
            counts[r.seed] = counts.get(r.seed, 0) + 1
    return counts


def t_quantile(dof: float, p: float) -> float:
    """Student's t quantile (dof below 1 counts as 1)."""
    # scipy.special's inverse Student-t: the same quantile as scipy.stats.t.ppf, without the
    # 0.7 s import of scipy.stats; imported on first use, since scipy.special alone costs
    # 0.2 s of every command's start-up.
    from scipy.special import stdtrit

    return float(stdtrit(max(dof, 1), p))


def interval(pair: Paired, level: float = 0.95) -> tuple[float, float]:
    """Two-sided confidence interval of the mean paired difference."""
    if pair.n == 0 or not math.isfinite(pair.se):
        return -math.inf, math.inf
    t = t_quantile(pair.dof, 0.5 + level / 2)
    return pair.mean - t * pair.se, pair.mean + t * pair.se
