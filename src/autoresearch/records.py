"""Immutable records: what the engine produces and the store keeps."""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field, replace
from enum import Enum
from typing import Any


class Status(str, Enum):
    PENDING = "pending"
    RUNNING = "running"
    KEPT = "kept"
    DISCARDED = "discarded"
    INVALID = "invalid"  # rejected by the validator or the harness' integrity checks
    CRASHED = "crashed"
    TIMEOUT = "timeout"
    OOM = "oom"
    DIVERGED = "diverged"
    # Not verdicts on the candidate: the machine starved its runs (a later `run` may retry it),
    # or its code is one the study already holds (it never ran).
    INTERFERED = "interfered"
    DUPLICATE = "duplicate"
    # Run to measure an effect (an ablation), not to compete: it never becomes the best.
    MEASURED = "measured"

    @property
    def finished(self) -> bool:
        return self not in (Status.PENDING, Status.RUNNING)

    @property
    def failed(self) -> bool:
        return self in FAILURES

    @property
    def unjudged(self) -> bool:
        """Finished without a verdict on the candidate: never counted as its failure."""
        return self in UNJUDGED


FAILURES = frozenset({Status.INVALID, Status.CRASHED, Status.TIMEOUT, Status.OOM, Status.DIVERGED})
UNJUDGED = frozenset({Status.INTERFERED, Status.DUPLICATE, Status.MEASURED})


class FailureKind(str, Enum):
    """Why a run has no score: finer than Status, for the failure analysis."""

    SYNTAX = "syntax"
    VALIDATION = "validation"
    INTEGRITY = "integrity"
    OVER_BUDGET = "over_budget"
    NO_RESULT = "no_result"
    CRASH = "crash"
    TIMEOUT = "timeout"
    OOM = "oom"
    DIVERGENCE = "divergence"
    PROPOSAL = "proposal"
    EXPORT = "export"  # the model could not be handed to the evaluator, or was refused by it
    INTERFERED = "interfered"  # the machine starved the run (other load): never judged
    DUPLICATE = "duplicate"  # the same code as an earlier experiment: never run

    @property
    def status(self) -> Status:
        return _STATUS_OF[self]


_STATUS_OF = {
    FailureKind.SYNTAX: Status.INVALID,
    FailureKind.VALIDATION: Status.INVALID,
    FailureKind.INTEGRITY: Status.INVALID,
    FailureKind.OVER_BUDGET: Status.INVALID,
    FailureKind.NO_RESULT: Status.INVALID,
    FailureKind.PROPOSAL: Status.INVALID,
    FailureKind.EXPORT: Status.INVALID,
    FailureKind.CRASH: Status.CRASHED,
    FailureKind.TIMEOUT: Status.TIMEOUT,
    FailureKind.OOM: Status.OOM,
    FailureKind.DIVERGENCE: Status.DIVERGED,
    FailureKind.INTERFERED: Status.INTERFERED,
    FailureKind.DUPLICATE: Status.DUPLICATE,
}


class Mode(str, Enum):
    BASELINE = "baseline"
    INCREMENTAL = "incremental"
    EXPLORATION = "exploration"
    DIVERSIFICATION = "diversification"
    MANUAL = "manual"
    ABLATION = "ablation"  # a result with some of its kept changes removed (`ablate`)
    MERGE = "merge"  # two lineages' changes combined
    # Pipeline (tabular) coordinator rounds.
    EXPLORE = "explore"
    EXPLOIT = "exploit"
    COMBINE = "combine"
    NARROW = "narrow"
    LLM = "llm"


@dataclass(frozen=True)
class LLMUsage:
    """Token counts and cost of the model calls behind one experiment."""

    model: str = ""
    input_tokens: int = 0
    output_tokens: int = 0
    cache_write_tokens: int = 0
    cache_read_tokens: int = 0
    cost_usd: float | None = None
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SeedRun:
    seed: int
    failure: FailureKind | None
    metric: float | None = None
    test_metric: float | None = None
    reason: str = ""
    train_seconds: float = 0.0
    eval_seconds: float = 0.0
    startup_seconds: float = 0.0
    wall_seconds: float = 0.0
    peak_rss_mb: float = 0.0
    steps: int = 0
    loss_curve: tuple[tuple[int, float], ...] = ()
    log_tail: str = ""
    sandbox: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)
    # The run's CPU time / (training wall time x threads given); None when not measured.
    cpu_share: float | None = None
    measurement: int = 0  # 0: the seed's first run; 1, 2, ...: re-measurements of the same code
    # (stored as -1, -2, ...: screening runs, with their budget fraction in extra["screen"])

    @property
    def screen(self) -> float | None:
        """The budget fraction of a screening run; None for a full run."""
        fraction = self.extra.get("screen")
        return float(fraction) if fraction is not None else None

    @property
    def ok(self) -> bool:
        return self.failure is None and self.metric is not None and math.isfinite(self.metric)


@dataclass(frozen=True)
class Proposal:
    """A candidate before it runs: full code plus why it was proposed."""

    code: str
    description: str
    category: str
    mode: Mode
    parent_id: int | None
    proposer: str
    hypothesis: str = ""
    knobs: dict[str, Any] = field(default_factory=dict)
    usage: LLMUsage | None = None


@dataclass(frozen=True)
class Experiment:
    id: int
    study_id: int
    number: int
    proposal: Proposal
    diff: str
    status: Status
    failure: FailureKind | None = None
    reason: str = ""
    seed_runs: tuple[SeedRun, ...] = ()
    created_at: float = 0.0
    finished_at: float | None = None
    # Screening runs: one seed at a fraction of the budget, before any full run. They decide
    # only whether the full runs are worth their compute, and never enter a score.
    screens: tuple[SeedRun, ...] = ()

    @property
    def seed_scores(self) -> dict[int, float]:
        """Each seed's score: the mean over its measurements (a winner is measured again)."""
        measured: dict[int, list[float]] = {}
        for r in self.seed_runs:
            if r.ok and r.metric is not None:
                measured.setdefault(r.seed, []).append(r.metric)
        return {seed: statistics.fmean(values) for seed, values in measured.items()}

    @property
    def every_run(self) -> tuple[SeedRun, ...]:
        """Screening runs, then seed runs: everything it cost (time, not scores)."""
        return (*self.screens, *self.seed_runs)

    @property
    def scores(self) -> list[float]:
        return list(self.seed_scores.values())

    @property
    def metric_mean(self) -> float | None:
        return statistics.fmean(self.scores) if self.scores else None

    @property
    def metric_std(self) -> float | None:
        return statistics.stdev(self.scores) if len(self.scores) > 1 else None

    @property
    def test_mean(self) -> float | None:
        tests = [r.test_metric for r in self.seed_runs if r.ok and r.test_metric is not None]
        return statistics.fmean(tests) if tests else None

    @property
    def code(self) -> str:
        return self.proposal.code

    def finish(self, status: Status, failure: FailureKind | None, reason: str,
               finished_at: float) -> Experiment:
        return replace(self, status=status, failure=failure, reason=reason,
                       finished_at=finished_at)
