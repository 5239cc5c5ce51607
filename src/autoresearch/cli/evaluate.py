"""`eval`: validate and run one candidate file on every seed, without touching the store."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from autoresearch.cli import _common as c
from autoresearch.cli import _project as p
from autoresearch.cli._render import seed_line
from autoresearch.errors import MachineBusy, StorageError, UsageError
from autoresearch.records import FailureKind, Mode, SeedRun, Status
from autoresearch.sandbox import JobOptions
from autoresearch.search.acceptance import Verdict, failure_of
from autoresearch.storage import Store
from autoresearch.tasks import PreparedData, Task
from autoresearch.tasks._project import ProjectTask

console = Console()


def eval_command(
    candidate: Annotated[Path, typer.Argument(help="Candidate training file to evaluate.")],
    task: c.TaskOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    train_seconds: c.TrainSecondsOpt = None,
    seeds: c.SeedsOpt = c.DEFAULT_SEEDS,
    cache_dir: c.CacheOpt = None,
    offline: c.OfflineOpt = False,
    device: c.DeviceOpt = "auto",
    grace: c.GraceOpt = c.DEFAULT_GRACE,
    max_foreign_load: c.ForeignLoadOpt = c.DEFAULT_FOREIGN_LOAD,
    budget_unit: c.BudgetUnitOpt = "wall",
    storage: c.StorageOpt = c.DEFAULT_STORAGE,
    project: p.ProjectOpt = None,
    command: p.CommandOpt = None,
    metric: p.MetricOpt = None,
    metric_pattern: p.PatternOpt = None,
    direction: p.DirectionOpt = None,
    edit: p.EditOpt = None,
    eval_command: p.EvalCommandOpt = None,
) -> None:
    """Validate CANDIDATE and run it in the sandbox on each seed (exit 5 if it fails, 7 if
    other load starved a run of CPU).

    Nothing is recorded; `--storage` names the store to hide from the candidate (and, for a
    project, where its baseline learned which files are outputs).
    """
    # eval writes no store, but the user's store must stay out of the candidate's sight.
    store_files = c.store_files(storage)
    chosen = p.project_task(project, p.settings_of(command, metric, metric_pattern, direction,
                                                   edit, eval_command), task, store_files)
    chosen = chosen or c.resolve_task(task)
    budget = c.budget(chosen, train_seconds)
    seed_list = c.parse_seeds(seeds)
    unit = c.budget_unit(budget_unit)
    try:
        code = candidate.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read candidate {candidate}: {exc}") from None
    check = chosen.validate(code)
    result: dict[str, object] = {"task": chosen.name, "metric": chosen.metric.name,
                                 "direction": chosen.metric.direction.value,
                                 "budget_seconds": budget, "candidate": str(candidate)}
    if not check.ok:
        assert check.failure is not None
        result.update(status=check.failure.status.value, failure=check.failure.value,
                      reason=check.reason, mean=None, seeds=[])
        _emit(result, as_json)
        raise typer.Exit(c.EXIT_CANDIDATE_FAILED)
    data = c.prepare(chosen, cache_dir, offline)
    chosen = _learned(chosen, storage, budget, data)
    runs = []
    for seed in seed_list:
        options = JobOptions(budget, device=device, grace_seconds=grace, hidden=store_files,
                             max_foreign_load=c.foreign_load_limit(max_foreign_load),
                             budget_unit=unit)
        run = chosen.seed_job(code, seed, data, options).run()
        runs.append(run)
        if not as_json:
            console.print(seed_line(run, chosen.metric.name), highlight=False)
    verdict = failure_of(runs) or _starved(runs)
    scores = [r.metric for r in runs if r.ok and r.metric is not None]
    result.update(
        status="ok" if verdict is None else verdict.status.value,
        failure=verdict.failure.value if verdict and verdict.failure else None,
        reason=verdict.reason if verdict else "",
        mean=sum(scores) / len(scores) if scores and verdict is None else None,
        seeds=[{"seed": r.seed, "metric": r.metric, "failure": r.failure.value if r.failure
                else None, "reason": r.reason, "train_seconds": r.train_seconds,
                "steps": r.steps, "peak_rss_mb": r.peak_rss_mb, "log_tail": r.log_tail,
                "test_metric": r.test_metric, "eval_seconds": r.eval_seconds,
                "cpu_share": r.cpu_share, "foreign_load": r.extra.get("foreign_load"),
                "sandbox": list(r.sandbox)} for r in runs],
    )
    _emit(result, as_json)
    if verdict is not None:
        raise typer.Exit(MachineBusy.exit_code if verdict.status is Status.INTERFERED
                         else c.EXIT_CANDIDATE_FAILED)


def _starved(runs: list[SeedRun]) -> Verdict | None:
    """A run other load starved of CPU: not scored, and not the candidate's fault."""
    starved = next((r for r in runs if r.failure is FailureKind.INTERFERED), None)
    if starved is None:
        return None
    return Verdict(Status.INTERFERED, FailureKind.INTERFERED,
                   f"seed {starved.seed}: {starved.reason}")


def _learned(task: Task, storage: str, budget: float, data: PreparedData) -> Task:
    """A project's outputs, as its recorded baseline wrote them (none known: every file is
    fixed, except for the unmodified files themselves)."""
    if not isinstance(task, ProjectTask) or not Path(storage).exists():
        return task
    try:
        store = Store(storage, create=False)
    except StorageError:
        return task
    try:
        study = next((s for s in store.studies(task.name) if s.data_hash == data.content_hash
                      and s.budget_seconds == budget), None)
        base = next((e for e in store.experiments(study) if e.proposal.mode is Mode.BASELINE),
                    None) if study else None
    finally:
        store.close()
    return task.with_baseline(base) if base else task


def _emit(result: dict[str, object], as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(result, indent=2))
        return
    if result.get("mean") is not None:
        console.print(f"mean {result['metric']} = {result['mean']:.4f}", highlight=False)
    else:
        console.print(f"[red]{result['status']}[/]: {escape(str(result['reason']))}",
                      highlight=False)
