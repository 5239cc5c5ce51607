"""The study's run-to-run noise: how far two runs of the same code on the same seed differ.

Measured from every seed run more than once (the baseline's repeats, every re-measurement of a
winner or an incumbent); the keep rule (search/acceptance.py) and every view read it here.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable
from dataclasses import dataclass

from autoresearch.records import Experiment


@dataclass(frozen=True)
class Noise:
    """Run-to-run noise of the study: the sd of one run around its (code, seed) mean, pooled
    over every seed measured more than once."""

    sd: float | None
    dof: int  # degrees of freedom behind the estimate

    def describe(self) -> str:
        if self.sd is None:
            return "run noise not measured yet"
        return f"run noise sd {self.sd:.4g} ({self.dof} repeat{'s' * (self.dof != 1)})"


def noise_of(experiments: Iterable[Experiment]) -> Noise:
    squares, dof = 0.0, 0
    for experiment in experiments:
        measured: dict[int, list[float]] = {}
        for r in experiment.seed_runs:
            if r.ok and r.metric is not None:
                measured.setdefault(r.seed, []).append(r.metric)
        for values in measured.values():
            if len(values) > 1:
                mean = statistics.fmean(values)
                squares += sum((v - mean) ** 2 for v in values)
                dof += len(values) - 1
    return Noise(math.sqrt(squares / dof) if dof else None, dof)
