"""Knob searches: the knob space, each scored experiment as a point in it, and which knobs
mattered (Optuna's fANOVA evaluator on an in-memory study rebuilt from the experiments)."""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import optuna
from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)
from optuna.trial import create_trial

from autoresearch.analysis.study import baseline_of
from autoresearch.knobs import KnobError, parse_knobs
from autoresearch.metric import Direction, Metric
from autoresearch.records import Experiment
from autoresearch.ui.report._facts import scored

optuna.logging.set_verbosity(optuna.logging.WARNING)  # no "study created" line per report
MIN_TRIALS = 10  # fewer scored points than this give importances that are noise
# Shallow trees keep fANOVA at about a second for 1,000 experiments (depth 64: ~20 s) and
# barely move the ranking; the seed makes the report reproducible.
EVALUATOR = {"n_trees": 16, "max_depth": 8, "seed": 0}


@dataclass(frozen=True)
class KnobSpace:
    distributions: dict[str, BaseDistribution]
    log: frozenset[str]  # knobs searched on a log scale
    declared: bool  # from `# search:` annotations, not inferred from observed values
    categories: dict[str, str] = field(default_factory=dict)  # declared knob -> category


@dataclass(frozen=True)
class Importance:
    values: dict[str, float]  # knob -> share of the metric's variance, sums to ~1
    trials: int
    evaluator: str


def flat(knobs: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested knobs (a pipeline combo's {"slots": {...}, "params": {...}}) as dotted names."""
    out: dict[str, Any] = {}
    for name, value in knobs.items():
        if isinstance(value, Mapping):
            out.update(flat(value, f"{prefix}{name}."))
        else:
            out[f"{prefix}{name}"] = value
    return out


def _categorical(values: list[Any]) -> BaseDistribution | None:
    unique: list[Any] = []
    for v in values:
        if not isinstance(v, str | int | float | bool) and v is not None:
            return None
        if v not in unique:
            unique.append(v)
    return CategoricalDistribution(unique) if len(unique) > 1 else None


def _inferred(experiments: list[Experiment]) -> dict[str, BaseDistribution]:
    """For knobs without annotations (LLM proposals, pipeline slots): the observed range of
    the knobs every scored experiment has."""
    knobs = [flat(e.proposal.knobs) for e in scored(experiments)]
    common = set.intersection(*(set(k) for k in knobs)) if knobs else set()
    seen: dict[str, list[Any]] = {}
    for values_of in knobs:
        for name in sorted(common):
            seen.setdefault(name, []).append(values_of[name])
    space: dict[str, BaseDistribution] = {}
    for name, values in seen.items():
        numbers = all(isinstance(v, int | float) and not isinstance(v, bool)
                      and math.isfinite(v) for v in values)
        if numbers and min(values) < max(values):
            ints = all(isinstance(v, int) for v in values)
            space[name] = (IntDistribution(int(min(values)), int(max(values))) if ints
                           else FloatDistribution(float(min(values)), float(max(values))))
        elif (dist := _categorical(values)) is not None:
            space[name] = dist
    return space


def knob_space(experiments: list[Experiment]) -> KnobSpace | None:
    """The baseline's annotated knobs, else ranges inferred from the experiments; None when
    the experiments carry no knobs (nothing to draw)."""
    if not any(e.proposal.knobs for e in experiments):
        return None
    baseline = baseline_of(experiments)
    try:
        knobs = parse_knobs(baseline.code) if baseline is not None else {}
    except (KnobError, SyntaxError):
        knobs = {}
    if knobs:
        return KnobSpace({n: k.distribution() for n, k in knobs.items()},
                         frozenset(n for n, k in knobs.items() if k.kind == "log"), True,
                         {n: k.category for n, k in knobs.items()})
    space = _inferred(experiments)
    return KnobSpace(space, frozenset(), False) if space else None


def points(experiments: list[Experiment], space: KnobSpace) -> list[Experiment]:
    """Scored experiments whose every knob lies in the space: one line each."""
    def inside(e: Experiment) -> bool:
        knobs = flat(e.proposal.knobs)
        return all(name in knobs and _contains(dist, knobs[name])
                   for name, dist in space.distributions.items())
    return [e for e in scored(experiments) if inside(e)]


def _contains(dist: BaseDistribution, value: Any) -> bool:
    if isinstance(dist, CategoricalDistribution):
        return value in dist.choices
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    assert isinstance(dist, FloatDistribution | IntDistribution)
    return dist.low <= value <= dist.high


def importance(experiments: list[Experiment], space: KnobSpace,
               metric: Metric) -> Importance | None:
    chosen = points(experiments, space)
    if len(chosen) < MIN_TRIALS:
        return None
    # fANOVA imports scikit-learn (seconds): only reports that draw the importance pay it.
    from optuna.importance import FanovaImportanceEvaluator, get_param_importances

    direction = "minimize" if metric.direction is Direction.MIN else "maximize"
    study = optuna.create_study(direction=direction)
    names = list(space.distributions)
    study.add_trials([create_trial(params={n: flat(e.proposal.knobs)[n] for n in names},
                                   distributions=space.distributions, value=e.metric_mean)
                      for e in chosen])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the evaluator is flagged experimental in some versions
        values = get_param_importances(study, evaluator=FanovaImportanceEvaluator(**EVALUATOR))
    return Importance({k: float(v) for k, v in values.items()}, len(chosen),
                      f"fANOVA ({EVALUATOR['n_trees']} trees, depth {EVALUATOR['max_depth']})")
