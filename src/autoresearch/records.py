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
    INTERFERED = "interfered"  # the machine starved its runs: no verdict on the candidate

    @property
    def finished(self) -> bool:
        return self not in (Status.PENDING, Status.RUNNING)

    @property
    def failed(self) -> bool:
        return self in FAILURES


FAILURES = frozenset({Status.INVALID, Status.CRASHED, Status.TIMEOUT, Status.OOM, Status.DIVERGED})


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
    INTERFERED = "interfered"  # other processes took the run's cores: never judged

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
}


class Mode(str, Enum):
    BASELINE = "baseline"
    INCREMENTAL = "incremental"
    EXPLORATION = "exploration"
    DIVERSIFICATION = "diversification"
    MANUAL = "manual"
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
    cpu_share: float | None = None  # own CPU time / (training wall time x threads given)

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

    @property
    def scores(self) -> list[float]:
        return [r.metric for r in self.seed_runs if r.ok and r.metric is not None]

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
