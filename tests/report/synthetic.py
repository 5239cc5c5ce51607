"""Synthetic studies written through the real Store API, shaped like long real runs.

Candidates are real knob edits of the shakespeare baseline (so diffs, knob values and the knob
space are genuine); only the scores come from a made-up response surface plus seed noise, since
training hundreds of models is not what a report test or benchmark is about. Also used by
bench/report.py.
"""

from __future__ import annotations

import math
import random
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

from autoresearch.engine.loop import unified_diff
from autoresearch.knobs import apply_knobs, parse_knobs
from autoresearch.metric import Direction, Metric
from autoresearch.records import Experiment, FailureKind, LLMUsage, Mode, Proposal, SeedRun, Status
from autoresearch.search.offline import parse_values
from autoresearch.storage import Store, Study
from autoresearch.tasks import get_task

SEEDS = (42, 137)
HOSTILE = '</script><script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">'
FAILURES = (FailureKind.OOM, FailureKind.SYNTAX, FailureKind.VALIDATION, FailureKind.TIMEOUT,
            FailureKind.DIVERGENCE, FailureKind.CRASH)
MODES = (Mode.INCREMENTAL, Mode.INCREMENTAL, Mode.INCREMENTAL, Mode.EXPLORATION,
         Mode.DIVERSIFICATION)


@dataclass(frozen=True)
class Shape:
    experiments: int = 100
    failure_rate: float = 0.2
    llm_cost: bool = False  # record token usage and cost on every proposal
    hostile: bool = False  # put markup and script in every free-text field
    direction: Direction = Direction.MIN
    seed: int = 0


def _surface(knobs: dict[str, Any]) -> float:
    """A smooth made-up val_bpb: best near LR 5e-3, more layers and width help a little."""
    lr = math.log10(float(knobs["LEARNING_RATE"])) + 2.3
    return (2.6 + 0.8 * lr * lr - 0.05 * int(knobs["N_LAYER"])
            - 0.002 * int(knobs["N_EMBD"]) + 0.4 * float(knobs["DROPOUT"]))


def _sample(dist: Any, rng: random.Random) -> Any:
    if isinstance(dist, CategoricalDistribution):
        return rng.choice(dist.choices)
    if isinstance(dist, IntDistribution):
        return rng.randint(dist.low, dist.high)
    assert isinstance(dist, FloatDistribution)
    if dist.log:
        return round(math.exp(rng.uniform(math.log(dist.low), math.log(dist.high))), 6)
    return round(rng.uniform(dist.low, dist.high), 4)


def _runs(value: float, rng: random.Random, direction: Direction,
          seeds: tuple[int, ...] = SEEDS) -> tuple[SeedRun, ...]:
    sign = 1.0 if direction is Direction.MIN else -1.0
    return tuple(SeedRun(
        seed=s, failure=None, metric=sign * value + rng.gauss(0, 0.03),
        test_metric=sign * value + rng.gauss(0.01, 0.03), train_seconds=30.0,
        eval_seconds=1.5, startup_seconds=2.0, wall_seconds=34.0, peak_rss_mb=400.0,
        steps=500, loss_curve=((0, 5.5), (250, 3.0), (500, 2.5))) for s in seeds)


def build(path: Path, shape: Shape = Shape()) -> tuple[Store, Study]:
    rng = random.Random(shape.seed)
    metric = Metric("val_bpb" if shape.direction is Direction.MIN else "neg_val_bpb",
                    shape.direction)
    store = Store(path)
    study = store.study("shakespeare", metric, 30.0, f"synthetic{shape.seed:04d}", "synthetic")
    base_code = get_task("shakespeare").baseline_source()
    space = parse_knobs(base_code)
    text = (lambda s: f"{s} {HOSTILE}") if shape.hostile else (lambda s: s)

    def usage() -> LLMUsage | None:
        if not shape.llm_cost:
            return None
        tokens_in, tokens_out = rng.randint(3000, 9000), rng.randint(300, 1500)
        return LLMUsage(model="claude-sonnet-4-5", input_tokens=tokens_in,
                        output_tokens=tokens_out,
                        cost_usd=(3 * tokens_in + 15 * tokens_out) / 1e6)

    def finish(e: Experiment, runs: tuple[SeedRun, ...], status: Status,
               failure: FailureKind | None, reason: str) -> Experiment:
        for run in runs:
            store.add_seed_run(e.id, run)
        done = replace(e, seed_runs=runs).finish(status, failure, reason, time.time())
        store.finish_experiment(done)
        return store.experiment(e.id) or done

    base = store.add_experiment(study, Proposal(
        code=base_code, description="baseline", category="baseline", mode=Mode.BASELINE,
        parent_id=None, proposer="baseline", knobs=parse_values(base_code)), "", list(SEEDS))
    base = finish(base, _runs(_surface(base.proposal.knobs), rng, shape.direction),
                  Status.KEPT, None, "baseline")
    kept = [base]
    for _ in range(shape.experiments):
        parent = rng.choice(kept[-3:])
        names = rng.sample(list(space), k=rng.randint(1, 3))
        values = {n: _sample(space[n].distribution(), rng) for n in names}
        code = apply_knobs(parent.code, parse_knobs(parent.code), values)
        proposal = Proposal(
            code=code, description=text(", ".join(f"{n} -> {v}" for n, v in values.items())),
            category=space[names[0]].category, mode=rng.choice(MODES), parent_id=parent.id,
            proposer="llm" if shape.llm_cost else "offline",
            hypothesis=text("a nearby setting may improve the metric"),
            knobs=parse_values(code), usage=usage())
        e = store.add_experiment(study, proposal, unified_diff(parent.code, code), list(SEEDS))
        if rng.random() < shape.failure_rate:
            kind = rng.choice(FAILURES)
            reason = text(f"{kind.value} after {rng.randint(1, 30)} s")
            runs = (SeedRun(seed=SEEDS[0], failure=kind, reason=reason, wall_seconds=5.0),)
            finish(e, runs if kind not in (FailureKind.SYNTAX, FailureKind.VALIDATION) else (),
                   kind.status, kind, reason)
            continue
        runs = _runs(_surface(proposal.knobs), rng, shape.direction)
        best = min((k.metric_mean or 0.0 for k in kept), key=metric.sort_key)
        if not metric.is_better(runs[0].metric or 0.0, best):  # the loop's short-circuit
            finish(e, runs[:1], Status.DISCARDED, None, text("first seed worse than the best"))
            continue
        mean = sum(r.metric or 0.0 for r in runs) / len(runs)
        if metric.is_better(mean, best):
            kept.append(finish(e, runs, Status.KEPT, None, text("beats the best")))
        else:
            finish(e, runs, Status.DISCARDED, None, text("mean worse than the best"))
    return store, study
