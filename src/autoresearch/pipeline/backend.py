"""The Python API: search any pipeline space with the engine, scored by your own function.

    class MyBackend:
        metric_name = "accuracy"
        higher_is_better = True
        def get_search_space(self): return {"features": ["raw", "scaled"], "model": ["a", "b"]}
        def run_experiment(self, config): return 0.9   # or one score per CV repeat

    history = Coordinator(MyBackend(), budget_per_round=10).run(n_rounds=4, llm_rounds=3)

A thin facade over ResearchLoop: the backend is the task and the executor (its function runs in
this process, on one seed per combo whose score is the mean of what it returns); the strategy,
the proposers, the store and the keep rule are the engine's. Optional members: `task_name`,
`data_hash`, `data_source`, `budget_seconds` (the study's key) and `score_holdout(config)`
(scored for kept combos before their verdict).
"""

from __future__ import annotations

import json
import math
import statistics
from collections.abc import Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from autoresearch.analysis.combo import Combo
from autoresearch.engine import Observer, ResearchLoop, RunSettings
from autoresearch.errors import UsageError
from autoresearch.metric import Direction, Metric
from autoresearch.pipeline.proposer import ComboProposer, SlotProposer, combo_json
from autoresearch.pipeline.space import SearchSpace
from autoresearch.pipeline.strategy import LLMTurns, PipelineStrategy
from autoresearch.records import Experiment, FailureKind, Mode, SeedRun
from autoresearch.sandbox import JobOptions
from autoresearch.sandbox.validator import ValidationResult
from autoresearch.search.acceptance import Acceptance
from autoresearch.storage import Store, Study
from autoresearch.tasks import PreparedData


@runtime_checkable
class Backend(Protocol):
    metric_name: str
    higher_is_better: bool

    def run_experiment(self, config: Combo) -> float | Sequence[float]: ...

    def get_search_space(self) -> SearchSpace | Mapping[str, Any]: ...


def metric_of(backend: Backend) -> Metric:
    return Metric(backend.metric_name, Direction.MAX if backend.higher_is_better
                  else Direction.MIN)


def search_space_of(backend: Backend) -> SearchSpace:
    space = backend.get_search_space()
    if isinstance(space, SearchSpace):
        return space
    if isinstance(space, Mapping) and space:
        return SearchSpace.from_mapping(space)
    raise UsageError(f"{type(backend).__name__}.get_search_space() must return a SearchSpace or "
                     "a non-empty {slot: [implementation, ...]} mapping")


@dataclass(frozen=True)
class _Job:
    code: str  # the combo's knobs as JSON
    seed: int
    holdout: bool = False


@dataclass
class _BackendTask:
    backend: Backend
    space: SearchSpace
    metric: Metric
    harness_module: str | None = None
    required_calls: tuple[str, ...] = ()
    description: str = "a custom pipeline backend"

    @property
    def name(self) -> str:
        return str(getattr(self.backend, "task_name", f"custom:{type(self.backend).__name__}"))

    @property
    def default_budget(self) -> float:
        return float(getattr(self.backend, "budget_seconds", 0.0))

    def baseline_source(self) -> str:
        return combo_json(self.space.default_combo())

    def baseline_knobs(self) -> dict[str, Any]:
        return self.space.default_combo().knobs()

    def prepare(self, cache_dir: Path, offline: bool) -> PreparedData:
        return PreparedData(Path("."), str(getattr(self.backend, "data_hash", "custom")),
                            str(getattr(self.backend, "data_source", type(self.backend).__name__)),
                            {})

    def prompt_section(self) -> str:
        return ""

    def seed_job(self, code: str, seed: int, data: PreparedData, options: JobOptions) -> _Job:
        return _Job(code, seed)

    def validate(self, code: str) -> ValidationResult:
        return ValidationResult(None)

    def __post_init__(self) -> None:
        if callable(getattr(self.backend, "score_holdout", None)):
            self.holdout_job = lambda code, data, options: _Job(code, 0, holdout=True)


class _InProcess:
    """Runs the backend's function here; whatever it raises or returns badly is the combo's
    failure, never ours."""

    workers = 1

    def __init__(self, backend: Backend) -> None:
        self.backend = backend

    def submit(self, job: _Job) -> Future[SeedRun]:
        future: Future[SeedRun] = Future()
        future.set_result(self._run(job))
        return future

    def _run(self, job: _Job) -> SeedRun:
        combo = Combo.from_knobs(json.loads(job.code))
        call = self.backend.score_holdout if job.holdout else self.backend.run_experiment  # type: ignore[attr-defined]
        try:
            value = call(combo)
        except Exception as exc:  # a custom backend's crash is that combo's failure
            return SeedRun(seed=job.seed, failure=FailureKind.CRASH,
                           reason=f"{type(exc).__name__}: {exc}"[:500])
        if isinstance(value, int | float):
            value = [value]
        try:
            scores = [float(v) for v in value]
        except (TypeError, ValueError):
            return SeedRun(seed=job.seed, failure=FailureKind.NO_RESULT,
                           reason=f"run_experiment returned {type(value).__name__}, not scores")
        if not scores:
            return SeedRun(seed=job.seed, failure=FailureKind.NO_RESULT,
                           reason="run_experiment returned no score")
        if not all(math.isfinite(s) for s in scores):
            return SeedRun(seed=job.seed, failure=FailureKind.DIVERGENCE,
                           reason=f"non-finite score {scores}")
        return SeedRun(seed=job.seed, failure=None, metric=statistics.fmean(scores),
                       extra={"folds": scores})

    def shutdown(self) -> None: ...


class Coordinator:
    def __init__(self, backend: Backend, budget_per_round: int = 10, *,
                 store: Store | None = None, study: Study | None = None,
                 min_delta: float = 0.0, prune_margin: float | None = None, seed: int = 0,
                 slot_proposer: SlotProposer | None = None,
                 observer: Observer | None = None) -> None:
        self.metric = metric_of(backend)
        self.space = search_space_of(backend)
        self.budget, self.slot_proposer = budget_per_round, slot_proposer
        task = _BackendTask(backend, self.space, self.metric)
        data = task.prepare(Path("."), True)
        self.store = store or Store(":memory:")
        self.study = study or self.store.study(task.name, self.metric, task.default_budget,
                                               data.content_hash, data.source)
        self.strategy = PipelineStrategy(self.space, self.metric,
                                         budget_per_round=budget_per_round,
                                         prune_margin=prune_margin)
        self.loop = ResearchLoop(
            task=task, data=data, store=self.store, study=self.study,
            proposer=ComboProposer(slots=slot_proposer), strategy=self.strategy,
            acceptance=Acceptance(self.metric, min_delta, sequential=False),
            executor=_InProcess(backend),
            settings=RunSettings(job=JobOptions(budget_seconds=task.default_budget),
                                 seeds=(0,), search_seed=seed, repeats=0),
            observer=observer)

    def history(self) -> list[Experiment]:
        return self.loop.history()

    def run(self, n_rounds: int = 4, llm_rounds: int = 3) -> list[Experiment]:
        """The baseline, what a killed run left unfinished, then `n_rounds` rounds and
        `llm_rounds` LLM turns more than the study already holds."""
        self.loop.baseline()
        done = sum(1 for e in self.history() if e.proposal.mode is not Mode.BASELINE)
        templates = done + n_rounds * self.budget
        llm = llm_rounds if self.slot_proposer is not None else 0
        self.strategy.llm = LLMTurns(every=1, start=templates) if llm else None
        self.loop.run(templates + llm)
        return self.history()
