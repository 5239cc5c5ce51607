"""`replay` and `ablate`: check a study's claims on the study's own loop and store."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from autoresearch.cli import _common as c
from autoresearch.cli import research
from autoresearch.engine import ResearchLoop
from autoresearch.engine.verify import Ablated, ablate, replay
from autoresearch.errors import MachineBusy, UsageError
from autoresearch.records import Experiment, FailureKind
from autoresearch.search.strategy import Strategy
from autoresearch.storage import Store, Study

console = Console()

NumberArg = Annotated[int, typer.Argument(help="The experiment's number (see `status`).",
                                          show_default=False)]


def replay_command(
    number: NumberArg,
    seeds: Annotated[str | None, typer.Option(
        "--seeds", help="Seeds to run again (default: every seed the experiment scored).")] = None,
    task: c.TaskOpt = None,
    project: c.ProjectDirOpt = None,
    train_seconds: c.TrainSecondsOpt = None,
    storage: c.StorageOpt = c.DEFAULT_STORAGE,
    cache_dir: c.CacheOpt = None,
    offline: c.OfflineOpt = False,
    device: c.DeviceOpt = "auto",
    grace: c.GraceOpt = c.DEFAULT_GRACE,
    max_foreign_load: c.ForeignLoadOpt = c.DEFAULT_FOREIGN_LOAD,
) -> None:
    """Run experiment NUMBER's exact code again (same data, same budget) and say whether its
    result reproduces within the study's noise; the new runs are stored beside the old ones
    (exit 8 if it does not reproduce)."""
    loop, target = _open(number, task, project, train_seconds, storage, cache_dir, offline,
                         device, grace, max_foreign_load)
    chosen = c.parse_seeds(seeds) if seeds else tuple(target.seed_scores)
    if not chosen:
        raise UsageError(f"#{number} has no scored seed to compare with; pass --seeds")
    console.print(f"replaying #{number} ({escape(target.proposal.description)}) on seeds "
                  f"{','.join(map(str, chosen))}: {loop.noise().describe()}", highlight=False)
    try:
        result = replay(loop, target, chosen)
    finally:
        loop.executor.shutdown()
    metric = loop.study.metric.name
    for seed in chosen:
        old = [r.metric for r in target.seed_runs if r.seed == seed and r.ok]
        new = [r.metric for r in result.runs if r.seed == seed and r.ok]
        console.print(f"  seed {seed}: recorded {metric} {_values(old)}, replay {_values(new)}",
                      highlight=False)
    for run in result.runs:
        if not run.ok:
            console.print(f"  seed {run.seed}: {escape(run.reason)}", highlight=False)
    if not any(r.ok for r in result.runs) and all(
            r.failure is FailureKind.INTERFERED for r in result.runs):
        raise MachineBusy("every replay run was starved by other load: nothing to compare")
    console.print(escape(result.describe()), highlight=False)
    if not result.reproduces:
        raise typer.Exit(c.EXIT_NOT_REPRODUCED)


def ablate_command(
    number: Annotated[int | None, typer.Argument(
        help="The experiment to explain (default: the study's best).", show_default=False)] = None,
    task: c.TaskOpt = None,
    project: c.ProjectDirOpt = None,
    train_seconds: c.TrainSecondsOpt = None,
    storage: c.StorageOpt = c.DEFAULT_STORAGE,
    cache_dir: c.CacheOpt = None,
    offline: c.OfflineOpt = False,
    device: c.DeviceOpt = "auto",
    grace: c.GraceOpt = c.DEFAULT_GRACE,
    max_foreign_load: c.ForeignLoadOpt = c.DEFAULT_FOREIGN_LOAD,
) -> None:
    """Which of the kept changes behind experiment NUMBER mattered: each is removed in turn
    (and pairs that touch the same function, class or knob together), the variant is
    measured on the same seeds, and the smallest set of changes that keeps the gain is
    named. Ablation runs are stored as experiments (mode ablation, status measured)."""
    loop, target = _open(number, task, project, train_seconds, storage, cache_dir, offline,
                         device, grace, max_foreign_load)
    console.print(f"ablating #{target.number} ({escape(target.proposal.description)}): "
                  f"{loop.noise().describe()}", highlight=False)
    try:
        result = ablate(loop, target)
    finally:
        loop.executor.shutdown()
    _print_ablation(result, loop.study)


def _open(number: int | None, task: str | None, project, train_seconds: float | None,
          storage: str, cache_dir, offline: bool, device: str, grace: float,
          max_foreign_load: float) -> tuple[ResearchLoop, Experiment]:
    """The study's loop, reopened with the settings it ran with, and the experiment asked."""
    store = c.open_store(storage, create=False)
    try:
        study = c.pick_study(store, task, train_seconds, project)
        target = _experiment(store, study, number)
    finally:
        store.close()
    setup = dict(part.split("=", 1) for part in study.setup.split() if "=" in part)
    request = research.RunRequest(
        storage=storage, task=None if project else (task or study.task), project=project,
        train_seconds=study.budget_seconds, cache_dir=cache_dir, offline=offline,
        device=device if device != "auto" else setup.get("device", "auto"), grace=grace,
        max_foreign_load=max_foreign_load, budget_unit=setup.get("budget", "wall"),
        executor=setup.get("executor", "local"), proposer="offline")
    loop = research._loop(research._task_for(request), request, propose=False,
                          recorded=study)
    return loop, next(e for e in loop.history() if e.id == target.id)


def _experiment(store: Store, study: Study, number: int | None) -> Experiment:
    experiments = store.experiments(study)
    if number is None:
        best = Strategy(study.metric).best(experiments)
        if best is None:
            raise UsageError("the study has no kept experiment yet; `run` first")
        return best
    found = next((e for e in experiments if e.number == number), None)
    if found is None:
        raise UsageError(f"the study has no experiment #{number} (it holds #0 to "
                         f"#{max(e.number for e in experiments)}; `status` lists them)")
    return found


def _print_ablation(result: Ablated, study: Study) -> None:
    if not result.links:
        console.print(f"#{result.target.number} is the baseline: nothing to ablate")
        return
    table = Table(title=f"What mattered for #{result.target.number} ({study.metric.name} "
                  f"{study.metric.arrow}): effect = the result minus the result without the "
                  "change", title_justify="left")
    for column in ("ablation", "change removed", "effect", "95 % interval", "verdict"):
        table.add_column(column)
    rows = [*result.rows, *([result.minimal] if result.minimal and result.minimal
                            not in result.rows else [])]
    for row in rows:
        effect = f"{row.effect.mean:+.4f}" if row.effect else "-"
        span = f"{row.low:+.4f} .. {row.high:+.4f}" if row.effect else "-"
        table.add_row(f"#{row.experiment.number}",
                      escape(" + ".join(link.describe() for link in row.removed)), effect,
                      span, row.verdict)
    console.print(table)
    for note in result.skipped:
        console.print(f"  not ablated: {escape(note)}", highlight=False)
    console.print(f"smallest change from the baseline that keeps the gain: "
                  f"{escape(result.kept) or 'none'}", highlight=False)


def _values(values: list[float | None]) -> str:
    return ", ".join(f"{v:.4f}" for v in values if v is not None) or "-"
