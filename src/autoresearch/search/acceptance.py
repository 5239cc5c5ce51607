"""Deciding from seed runs whether an experiment is kept."""

from __future__ import annotations

from dataclasses import dataclass

from autoresearch.records import FailureKind, SeedRun, Status
from autoresearch.tasks import Metric


@dataclass(frozen=True)
class Verdict:
    status: Status
    failure: FailureKind | None
    reason: str


@dataclass(frozen=True)
class Acceptance:
    """Keep when the mean over seeds beats the best by more than `min_delta` (metric units)."""

    metric: Metric
    min_delta: float = 0.0

    def worth_more_seeds(self, runs: list[SeedRun], best: float | None) -> bool:
        """Short-circuit: stop after a failed seed, or a first seed strictly worse than the best."""
        if any(not r.ok for r in runs):
            return False
        if best is None or len(runs) != 1 or runs[0].metric is None:
            return True
        return self.metric.gain(runs[0].metric, best) >= 0

    def decide(self, runs: list[SeedRun], best: float | None, planned: int) -> Verdict:
        failed = next((r for r in runs if not r.ok), None)
        if failed is not None:
            kind = failed.failure or FailureKind.CRASH
            return Verdict(kind.status, kind, f"seed {failed.seed}: {failed.reason}")
        scores = [r.metric for r in runs if r.metric is not None]
        mean = sum(scores) / len(scores)
        name = self.metric.name
        if len(runs) < planned:
            return Verdict(Status.DISCARDED, None,
                           f"seed {runs[0].seed} scored {name}={mean:.4f}, worse than the best "
                           f"{best:.4f}; remaining seeds skipped")
        if self.metric.is_better(mean, best, self.min_delta):
            gain = "" if best is None else f" (gain {self.metric.gain(mean, best):+.4f})"
            return Verdict(Status.KEPT, None, f"mean {name}={mean:.4f}{gain}")
        return Verdict(Status.DISCARDED, None,
                       f"mean {name}={mean:.4f} does not beat the best {best:.4f} by more than "
                       f"{self.min_delta:g}")
