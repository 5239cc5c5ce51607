"""`run` and `baseline`: the research loop on a task."""

from __future__ import annotations

import time
from typing import Annotated

import typer
from rich.console import Console

from autoresearch.cli import _common as c
from autoresearch.cli._render import LiveObserver, fmt
from autoresearch.engine import ResearchLoop, RunSettings
from autoresearch.errors import AutoresearchError, UsageError
from autoresearch.execution import LocalExecutor
from autoresearch.sandbox import JobOptions
from autoresearch.search import make_proposer
from autoresearch.search.acceptance import Acceptance
from autoresearch.search.strategy import Strategy
from autoresearch.storage import Mode, Status

console = Console()


def _loop(task_name: str | None, storage: str, train_seconds: float | None, seeds: str,
          cache: c.Path | None, offline: bool, device: str, proposer: str = "offline",
          min_delta: float = 0.0) -> ResearchLoop:
    task = c.resolve_task(task_name)
    budget = c.budget(task, train_seconds)
    seed_list = c.parse_seeds(seeds)
    chosen = make_proposer(proposer)
    store = c.open_store(storage)
    data = c.prepare(task, cache, offline)
    study = store.study(task.name, task.metric, budget, data.content_hash, data.source)
    console.print(f"[bold]{task.name}[/]: {task.metric.name} {task.metric.arrow}, budget "
                  f"{budget:g}s per seed, seeds {','.join(map(str, seed_list))}, data "
                  f"{data.source} ({data.content_hash}), proposer {chosen.name}, store "
                  f"{store.path}", highlight=False)
    return ResearchLoop(
        task=task, data=data, store=store, study=study, proposer=chosen,
        strategy=Strategy(task.metric), acceptance=Acceptance(task.metric, min_delta),
        executor=LocalExecutor(workers=1),
        settings=RunSettings(job=JobOptions(budget_seconds=budget, device=device),
                             seeds=seed_list),
        observer=LiveObserver(console, study),
    )


def run(
    task: c.TaskOpt = None,
    max_experiments: c.MaxExperimentsOpt = 10,
    time_budget: Annotated[float | None, typer.Option(
        "--time-budget", help="Wall-clock seconds for this invocation; no experiment is "
        "started that would not finish in time.")] = None,
    proposer: Annotated[str, typer.Option(
        "--proposer", help="auto (LLM when a key is set, else offline), offline or llm.")
    ] = "auto",
    min_delta: Annotated[float, typer.Option(
        "--min-delta", min=0.0, help="Keep only gains larger than this, in metric units.")
    ] = 0.0,
    train_seconds: c.TrainSecondsOpt = None,
    seeds: c.SeedsOpt = c.DEFAULT_SEEDS,
    storage: c.StorageOpt = c.DEFAULT_STORAGE,
    cache_dir: c.CacheOpt = None,
    offline: c.OfflineOpt = False,
    device: c.DeviceOpt = "auto",
) -> None:
    """Search for improvements over the baseline; resumes what the store already holds."""
    if time_budget is not None and time_budget <= 0:
        raise UsageError(f"--time-budget must be > 0 seconds, got {time_budget:g}")
    started = time.monotonic()
    loop = _loop(task, storage, train_seconds, seeds, cache_dir, offline, device, proposer,
                 min_delta)
    try:
        base = loop.baseline()
        if base.status is not Status.KEPT:
            raise AutoresearchError(f"the baseline failed ({base.status.value}): {base.reason}")
        loop.resume_interrupted()
        durations: list[float] = []
        while True:
            done = [e for e in loop.history() if e.proposal.mode is not Mode.BASELINE]
            if len(done) >= max_experiments:
                console.print(f"the study holds {len(done)} experiments (--max-experiments "
                              f"{max_experiments}); raise it to continue")
                break
            if time_budget is not None:
                left = time_budget - (time.monotonic() - started)
                expected = max(durations) if durations else 0.0
                if left <= expected:
                    console.print(f"time budget reached ({time_budget:g}s)")
                    break
            t0 = time.monotonic()
            loop.step()
            durations.append(time.monotonic() - t0)
    finally:
        loop.executor.shutdown()
    _summary(loop)


def _summary(loop: ResearchLoop) -> None:
    history = loop.history()
    base = next((e for e in history if e.proposal.mode is Mode.BASELINE), None)
    best = loop.strategy.best(history)
    kept = sum(1 for e in history if e.status is Status.KEPT and e is not base)
    if base is None or best is None:
        return
    gain = loop.study.metric.gain(best.metric_mean or 0.0, base.metric_mean or 0.0)
    console.print(f"[bold]baseline[/] {fmt(base.metric_mean)}  [bold]best[/] "
                  f"{fmt(best.metric_mean)} (#{best.number}, gain {gain:+.4f}, sealed test "
                  f"{fmt(best.test_mean)})  kept {kept} of {len(history) - 1}", highlight=False)


def baseline(
    task: c.TaskOpt = None,
    train_seconds: c.TrainSecondsOpt = None,
    seeds: c.SeedsOpt = c.DEFAULT_SEEDS,
    storage: c.StorageOpt = c.DEFAULT_STORAGE,
    cache_dir: c.CacheOpt = None,
    offline: c.OfflineOpt = False,
    device: c.DeviceOpt = "auto",
) -> None:
    """Train the task's baseline on every seed and record it as the study's reference."""
    loop = _loop(task, storage, train_seconds, seeds, cache_dir, offline, device)
    try:
        result = loop.baseline()
    finally:
        loop.executor.shutdown()
    metric = loop.study.metric.name
    for run in result.seed_runs:
        console.print(f"seed {run.seed}: {metric} = {fmt(run.metric)}", highlight=False)
    if result.status is not Status.KEPT:
        raise AutoresearchError(f"the baseline failed ({result.status.value}): {result.reason}")
    console.print(f"mean {metric} = {fmt(result.metric_mean)} ± {fmt(result.metric_std)}",
                  highlight=False)
