"""The Backend protocol: what the coordinator needs to search any pipeline space.

A custom backend plugs in without touching the engine:

    class MyBackend:
        metric_name = "accuracy"
        higher_is_better = True
        def get_search_space(self): return {"features": ["raw", "scaled"], "model": ["a", "b"]}
        def run_experiment(self, config): return 0.9   # or one score per seed / CV repeat

    Coordinator(MyBackend(), budget_per_round=10).run(n_rounds=4, llm_rounds=3)

Optional members, used when present: `run_batch(configs)` (many at once, e.g. in parallel),
`score_holdout(config)` (scored for kept combos only), `render(config)` (the code stored with
the experiment), `task_name`, `data_hash`, `data_source`, `budget_seconds` (the study's key),
and `add_implementation(impl)` (accept an implementation written at run time, LLM rounds).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from autoresearch.analysis.combo import Combo
from autoresearch.errors import UsageError
from autoresearch.metric import Direction, Metric
from autoresearch.pipeline.space import SearchSpace
from autoresearch.records import FailureKind


@dataclass(frozen=True)
class Outcome:
    """What running one combo gave: a score per seed or CV repeat, or a failure."""

    scores: tuple[float, ...] = ()
    seeds: tuple[int, ...] = ()
    folds: tuple[float, ...] = ()
    failure: FailureKind | None = None
    reason: str = ""
    slot: str | None = None  # the slot a failure was raised in, when known
    wall_seconds: float = 0.0
    startup_seconds: float = 0.0
    peak_rss_mb: float = 0.0
    log_tail: str = ""
    sandbox: tuple[str, ...] = ()
    extra: Mapping[str, Any] | None = None


@runtime_checkable
class Backend(Protocol):
    metric_name: str
    higher_is_better: bool

    def run_experiment(self, config: Combo) -> float | Sequence[float] | Outcome: ...

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


def as_outcome(value: Any) -> Outcome:
    """A backend's answer, whatever its shape; bad shapes are the candidate's fault."""
    if isinstance(value, Outcome):
        return value
    if isinstance(value, int | float):
        value = [value]
    try:
        scores = tuple(float(v) for v in value)
    except (TypeError, ValueError):
        return Outcome(failure=FailureKind.NO_RESULT,
                       reason=f"run_experiment returned {type(value).__name__}, not scores")
    if not scores:
        return Outcome(failure=FailureKind.NO_RESULT, reason="run_experiment returned no score")
    if not all(math.isfinite(s) for s in scores):
        return Outcome(failure=FailureKind.DIVERGENCE, reason=f"non-finite score {scores}")
    return Outcome(scores=scores, seeds=tuple(range(len(scores))))


def run_batch(backend: Backend, combos: list[Combo]) -> list[Outcome]:
    batch = getattr(backend, "run_batch", None)
    if callable(batch):
        return [as_outcome(v) for v in batch(combos)]
    outcomes = []
    for combo in combos:
        try:
            outcomes.append(as_outcome(backend.run_experiment(combo)))
        except Exception as exc:  # a custom backend's crash is that combo's failure
            outcomes.append(Outcome(failure=FailureKind.CRASH,
                                    reason=f"{type(exc).__name__}: {exc}"[:500]))
    return outcomes


def render(backend: Backend, combo: Combo) -> str:
    method = getattr(backend, "render", None)
    if callable(method):
        return str(method(combo))
    return json.dumps(combo.knobs(), indent=2, sort_keys=True, default=str) + "\n"
