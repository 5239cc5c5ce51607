"""Small stores written through the real Store API, with exactly the content a test needs."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

from autoresearch.metric import Direction, Metric
from autoresearch.records import Experiment, FailureKind, Mode, Proposal, SeedRun, Status
from autoresearch.storage import Store, Study

CODE = "import harness\n\nLR = 3e-3  # search: log 3e-4..3e-2 [optimizer]\nharness.evaluate()\n"


def open_study(path: Path, task: str = "shakespeare", metric: str = "val_bpb",
               direction: Direction = Direction.MIN, budget: float = 1.0) -> tuple[Store, Study]:
    store = Store(path)
    return store, store.study(task, Metric(metric, direction), budget, f"hash-{task}", "test")


def add(store: Store, study: Study, metrics: tuple[float, ...] = (3.0,), *,
        status: Status | None = Status.DISCARDED, failure: FailureKind | None = None,
        parent: Experiment | None = None, mode: Mode = Mode.INCREMENTAL,
        description: str = "LR 3e-3 -> 4e-3", hypothesis: str = "", reason: str = "",
        category: str = "optimizer", knobs: dict[str, object] | None = None,
        log_tail: str = "step 10 loss 2.9\n", code: str = CODE,
        diff: str = "--- parent\n+++ candidate\n-LR = 3e-3\n+LR = 4e-3\n") -> Experiment:
    """One experiment: its seed runs, and its verdict unless `status` is None (still running)."""
    proposal = Proposal(code=code, description=description, category=category, mode=mode,
                        parent_id=parent.id if parent else None, proposer="test",
                        hypothesis=hypothesis, knobs=knobs or {})
    experiment = store.add_experiment(study, proposal, diff, [42, 137][:max(1, len(metrics))])
    runs = []
    for seed, value in zip((42, 137), metrics, strict=False):
        run = SeedRun(seed=seed, failure=failure, metric=None if failure else value,
                      test_metric=None if failure else value + 0.01,
                      reason=reason if failure else "", train_seconds=1.0, wall_seconds=2.0,
                      steps=10, loss_curve=((0, 5.0), (5, 4.0), (10, value)),
                      log_tail=log_tail)
        store.add_seed_run(experiment.id, run)
        runs.append(run)
    experiment = replace(experiment, seed_runs=tuple(runs))
    if status is None:
        return experiment
    finished = experiment.finish(status, failure, reason or status.value, time.time())
    store.finish_experiment(finished)
    return finished


def finish(store: Store, experiment: Experiment, status: Status, metrics: tuple[float, ...],
           ) -> Experiment:
    """Seed runs and the verdict of an experiment written with `status=None`."""
    runs = list(experiment.seed_runs)
    for seed, value in zip((42, 137)[len(runs):], metrics, strict=False):
        run = SeedRun(seed=seed, failure=None, metric=value, test_metric=value + 0.01,
                      loss_curve=((0, 5.0), (10, value)))
        store.add_seed_run(experiment.id, run)
        runs.append(run)
    done = replace(experiment, seed_runs=tuple(runs)).finish(status, None, status.value,
                                                             time.time())
    store.finish_experiment(done)
    return done


def baseline(store: Store, study: Study, value: float = 3.0) -> Experiment:
    return add(store, study, (value, value), status=Status.KEPT, mode=Mode.BASELINE,
               description="baseline", category="baseline", diff="")


def long_study(path: Path, n: int = 60, seed: int = 0) -> tuple[Store, Study]:
    """A study shaped like a real search: slow gains, most candidates discarded, some failing."""
    import random

    rng = random.Random(seed)
    store, study = open_study(path)
    best = baseline(store, study, 3.40)
    kept = [best]
    failures = [FailureKind.CRASH, FailureKind.TIMEOUT, FailureKind.OOM, FailureKind.VALIDATION,
                FailureKind.DIVERGENCE]
    for i in range(n):
        parent = rng.choice(kept[-3:])
        knobs = {"LR": round(10 ** rng.uniform(-3.5, -1.5), 5), "N_LAYER": rng.randint(2, 6),
                 "ACT": rng.choice(["gelu", "relu", "silu"])}
        mode = Mode.EXPLORATION if i % 5 == 4 else Mode.INCREMENTAL
        category = rng.choice(["hyperparameter", "architectural", "optimizer", "regularization"])
        description = f"LR -> {knobs['LR']:.2e}, N_LAYER -> {knobs['N_LAYER']}, {knobs['ACT']}"
        if rng.random() < 0.18:
            kind = rng.choice(failures)
            add(store, study, (0.0,), status=kind.status, failure=kind, parent=parent,
                mode=mode, category=category, knobs=knobs, description=description,
                reason=f"{kind.value} in seed 42", log_tail=f"Traceback: {kind.value}\n")
            continue
        mean = (parent.metric_mean or 3.4) + rng.gauss(0.02, 0.05)
        values = (mean - 0.01, mean + 0.01)
        is_kept = mean < (best.metric_mean or 3.4) - 0.005
        done = add(store, study, values, status=Status.KEPT if is_kept else Status.DISCARDED,
                   parent=parent, mode=mode, category=category, knobs=knobs,
                   description=description)
        if is_kept:
            best = done
            kept.append(done)
    return store, study
