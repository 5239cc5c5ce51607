"""`run` and `baseline`: the research loop on a task, a project folder or a tabular dataset."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from autoresearch.analysis.study import summarize
from autoresearch.cli import _common as c
from autoresearch.cli import _project as p
from autoresearch.cli._render import LiveObserver, fmt, summary_line
from autoresearch.engine import ResearchLoop, RunSettings
from autoresearch.engine.loop import Observer
from autoresearch.errors import MachineBusy, UsageError
from autoresearch.execution import make_executor
from autoresearch.records import Experiment, Status
from autoresearch.sandbox import JobOptions
from autoresearch.sandbox.load import machine_busy
from autoresearch.search import LLMOptions, OfflineProposer, make_proposer
from autoresearch.search.acceptance import Acceptance
from autoresearch.search.strategy import Strategy
from autoresearch.storage import Study
from autoresearch.tasks import Task
from autoresearch.tasks._project import BranchRecorder, ProjectBranch, ProjectTask

console = Console()

LLM_PANEL = "LLM proposer"
PARALLEL_PANEL = "Parallel execution"
PROJECT_PANEL = p.PANEL
TABULAR_PANEL = "Tabular pipeline"


@dataclass(frozen=True)
class RunRequest:
    """Everything `run` was asked to do, parsed once at the edge."""

    storage: str
    task: str | None = None
    source: Path | None = None
    max_experiments: int = 10
    time_budget: float | None = None
    proposer: str = "auto"
    min_delta: float = 0.0
    train_seconds: float | None = None
    seeds: tuple[int, ...] = (42, 137)
    max_seeds: int = c.DEFAULT_MAX_SEEDS
    screen: float | None = None  # None: c.DEFAULT_SCREEN for built-in tasks, else 0
    cache_dir: Path | None = None
    offline: bool = False
    device: str = "auto"
    grace: float = c.DEFAULT_GRACE
    max_foreign_load: float = c.DEFAULT_FOREIGN_LOAD
    budget_unit: str = "wall"
    provider: str | None = None
    model: str | None = None
    base_url: str | None = None
    max_cost: float | None = None
    max_tokens: int | None = None
    workers: int | None = None
    executor: str = "local"
    ray_address: str | None = None
    fork_server: bool = True
    project: Path | None = None
    command: str | None = None
    metric: str | None = None
    direction: str | None = None
    edit: tuple[str, ...] = field(default=())
    metric_pattern: str | None = None
    eval_command: str | None = None
    git_branch: str | None = None
    target: str | None = None
    framework: str | None = None
    dataset: str | None = None


def _loop(task: Task, request: RunRequest, propose: bool = True,
          recorded: Study | None = None) -> ResearchLoop:
    """The loop on the request's study; `recorded`: an existing study it must reopen (replay,
    ablate), refused when this machine's setup or data would make other numbers."""
    budget = c.budget(task, request.train_seconds)
    fixed = p.overridden_knobs(task, console) if propose else frozenset()
    chosen = make_proposer(
        request.proposer, budget_seconds=budget, notify=lambda m: console.print(f"   {m}"),
        llm=LLMOptions(request.provider, request.model, request.base_url, request.max_cost,
                       request.max_tokens), fixed_knobs=fixed)
    if propose and isinstance(chosen, OfflineProposer):
        p.check_knobs(task, fixed)  # before the baseline: nothing to propose stops the run now
    store = c.open_store(request.storage)
    data = c.prepare(task, request.cache_dir, request.offline)
    executor = make_executor(request.executor, request.workers, request.ray_address,
                             request.fork_server)
    setup = c.study_setup(executor, request.executor, request.device, request.budget_unit)
    if recorded is not None:
        mismatch = [f"{what} {now} (the study's: {then})" for what, now, then in (
            ("setup", setup, recorded.setup), ("data", data.content_hash, recorded.data_hash))
            if then and now != then]
        if mismatch:
            executor.shutdown()
            raise UsageError("this machine would measure something else: " + "; ".join(
                mismatch) + "; pass the options the study ran with (--device, --workers)")
        study = recorded
    else:
        study = store.study(task.name, task.metric, budget, data.content_hash, data.source,
                            setup)
    unit = "s" if request.budget_unit == "wall" else " CPU-s"
    console.print(f"[bold]{task.name}[/]: {task.metric.name} {task.metric.arrow}, budget "
                  f"{budget:g}{unit} per seed, seeds {','.join(map(str, request.seeds))} (up to "
                  f"{max(request.max_seeds, len(request.seeds))} for near ties), {setup}, data "
                  f"{data.source} ({data.content_hash}), store {store.path}\nproposer: "
                  f"{getattr(chosen, 'description', chosen.name)}", highlight=False)
    return ResearchLoop(
        task=task, data=data, store=store, study=study, proposer=chosen,
        strategy=Strategy(task.metric,
                          resolve_conflicts=getattr(chosen, "resolves_merges", False)),
        acceptance=Acceptance(task.metric, request.min_delta),
        executor=executor,
        settings=RunSettings(job=JobOptions(
            budget_seconds=budget, device=request.device, grace_seconds=request.grace,
            hidden=store.files, max_foreign_load=c.foreign_load_limit(request.max_foreign_load),
            budget_unit=request.budget_unit),
                             seeds=request.seeds, max_seeds=request.max_seeds,
                             screen=_screen(task, request)),
        observer=_observer(task, request,
                           LiveObserver(console, study, store.experiments(study))),
    )


def _screen(task: Task, request: RunRequest) -> float:
    if request.screen is not None:
        return request.screen
    return c.DEFAULT_SCREEN if task.harness_module is not None else 0.0


def _warn_if_busy(request: RunRequest) -> None:
    """Say so before the first run: wall-clock budgets buy fewer steps on a busy machine."""
    busy = machine_busy()
    limit = c.foreign_load_limit(request.max_foreign_load)
    if busy is not None and limit is not None and busy > limit:
        console.print(f"[yellow]warning:[/] the machine is busy ({busy:.0%} of its cores in use "
                      "by other processes): wall-clock budgets buy fewer steps, and seed runs "
                      "starved of CPU are recorded as interfered and re-run, not judged",
                      highlight=False)


def _task_for(request: RunRequest) -> Task:
    project = p.project_task(
        request.project,
        p.settings_of(request.command, request.metric, request.metric_pattern,
                      request.direction, request.edit, request.eval_command),
        request.task, ignored=c.store_files(request.storage))
    if project is not None:
        return project
    if request.git_branch:
        raise UsageError("--git-branch only applies to --project DIR")
    return c.resolve_task(request.task)


def _start(loop: ResearchLoop) -> Experiment:
    """The baseline, reported; a project task learns from it which files are outputs."""
    base = loop.baseline()
    p.report_baseline(loop.task, base, console)
    if isinstance(loop.task, ProjectTask):
        loop.task = loop.task.with_baseline(base)
    return base


def _observer(task: Task, request: RunRequest, live: Observer) -> Observer:
    """With --git-branch, each kept experiment is also committed to the project's branch."""
    if request.git_branch is None or not isinstance(task, ProjectTask):
        return live
    return BranchRecorder(live, task, ProjectBranch.open(task.project, request.git_branch))


def run(
    source: Annotated[Path | None, typer.Argument(
        help="A CSV file or a pipeline .py for a tabular run; omit it for --task, --project "
        "or --dataset.", show_default=False)] = None,
    task: c.TaskOpt = None,
    max_experiments: c.MaxExperimentsOpt = 10,
    time_budget: Annotated[float | None, typer.Option(
        "--time-budget", help="Wall-clock seconds for this invocation; no experiment is "
        "started that would not finish in time.")] = None,
    proposer: Annotated[str, typer.Option(
        "--proposer", help="auto (hybrid when a provider or key is set, else offline), "
        "offline, llm (the model alone) or hybrid (the model for structure, offline for knobs).")
    ] = "auto",
    min_delta: Annotated[float, typer.Option(
        "--min-delta", min=0.0, help="Keep only gains credibly larger than this, in metric "
        "units (a floor on top of the statistical test).")] = 0.0,
    max_seeds: Annotated[int, typer.Option(
        "--max-seeds", min=1, help="Seeds a near tie may get before it is discarded (the "
        "first ones are --seeds; the rest are drawn deterministically).")
    ] = c.DEFAULT_MAX_SEEDS,
    screen: Annotated[float | None, typer.Option(
        "--screen", min=0.0, max=0.9, show_default=False, help="Screening runs: train each "
        "candidate first on one seed for this fraction of the budget, and give it its full "
        "runs only when it is not clearly worse than the best there (0: off). Saves compute "
        "on bad candidates; never decides a keep. Default: 0.25 for built-in tasks, off for "
        "your own project (its command may ignore a shorter budget).")] = None,
    train_seconds: c.TrainSecondsOpt = None,
    seeds: c.SeedsOpt = c.DEFAULT_SEEDS,
    storage: c.StorageOpt = c.DEFAULT_STORAGE,
    cache_dir: c.CacheOpt = None,
    offline: c.OfflineOpt = False,
    device: c.DeviceOpt = "auto",
    grace: c.GraceOpt = c.DEFAULT_GRACE,
    max_foreign_load: c.ForeignLoadOpt = c.DEFAULT_FOREIGN_LOAD,
    budget_unit: c.BudgetUnitOpt = "wall",
    provider: Annotated[str | None, typer.Option(
        "--provider", help="anthropic, openai, gemini, openrouter, together, deepseek, ollama "
        "or openai-compatible (default: the one whose key is set).",
        rich_help_panel=LLM_PANEL)] = None,
    model: Annotated[str | None, typer.Option(
        "--model", help="LLM model name.", rich_help_panel=LLM_PANEL)] = None,
    base_url: Annotated[str | None, typer.Option(
        "--base-url", help="Custom OpenAI-compatible endpoint.", rich_help_panel=LLM_PANEL)
    ] = None,
    max_tokens: Annotated[int | None, typer.Option(
        "--max-tokens", min=256, help="Longest reply per LLM call (default 8192).",
        rich_help_panel=LLM_PANEL)] = None,
    max_cost: Annotated[float | None, typer.Option(
        "--max-cost", help="Stop before an LLM call that could take the study's LLM cost "
        "over this many USD.",
        rich_help_panel=LLM_PANEL)] = None,
    workers: Annotated[int | None, typer.Option(
        "--workers", min=1, help="Parallel worker slots (default: GPUs, or 1 on CPU).",
        rich_help_panel=PARALLEL_PANEL)] = None,
    executor: Annotated[str, typer.Option(
        "--executor", help="local or ray.", rich_help_panel=PARALLEL_PANEL)] = "local",
    ray_address: Annotated[str | None, typer.Option(
        "--ray-address", help="auto or ray://host:port.", rich_help_panel=PARALLEL_PANEL)
    ] = None,
    fork_server: Annotated[bool, typer.Option(
        "--fork-server/--no-fork-server", help="Fork seed runs from a warm interpreter per "
        "worker slot (torch imported once) instead of starting a fresh one each time.",
        rich_help_panel=PARALLEL_PANEL)] = True,
    project: p.ProjectOpt = None,
    command: p.CommandOpt = None,
    metric: p.MetricOpt = None,
    metric_pattern: p.PatternOpt = None,
    direction: p.DirectionOpt = None,
    edit: p.EditOpt = None,
    eval_command: p.EvalCommandOpt = None,
    git_branch: Annotated[str | None, typer.Option(
        "--git-branch", help="Commit each kept experiment to this branch of the project.",
        rich_help_panel=PROJECT_PANEL)] = None,
    target: Annotated[str | None, typer.Option(
        "--target", help="Target column of the CSV.", rich_help_panel=TABULAR_PANEL)] = None,
    framework: Annotated[str | None, typer.Option(
        "--framework", help="sklearn, pytorch, keras, catboost, xgboost, lightgbm or "
        "statsmodels (default: detected).", rich_help_panel=TABULAR_PANEL)] = None,
    dataset: Annotated[str | None, typer.Option(
        "--dataset", help="A named dataset, e.g. kr-vs-kp.", rich_help_panel=TABULAR_PANEL)
    ] = None,
) -> None:
    """Search for improvements over the baseline; resumes what the store already holds."""
    if time_budget is not None and time_budget <= 0:
        raise UsageError(f"--time-budget must be > 0 seconds, got {time_budget:g}")
    request = RunRequest(
        storage=storage, task=task, source=source, max_experiments=max_experiments,
        time_budget=time_budget, proposer=proposer, min_delta=min_delta,
        train_seconds=train_seconds, seeds=c.parse_seeds(seeds), max_seeds=max_seeds,
        screen=screen, cache_dir=cache_dir, offline=offline, device=device, grace=grace,
        max_foreign_load=max_foreign_load, budget_unit=c.budget_unit(budget_unit),
        provider=provider, model=model,
        base_url=base_url,
        max_cost=max_cost, max_tokens=max_tokens, workers=workers, executor=executor,
        ray_address=ray_address, fork_server=fork_server,
        project=project, command=command, metric=metric, direction=direction,
        edit=tuple(edit or ()), metric_pattern=metric_pattern, eval_command=eval_command,
        git_branch=git_branch, target=target, framework=framework, dataset=dataset,
    )
    if request.source is not None or request.dataset is not None:
        from autoresearch.cli.tabular import run_pipeline

        return run_pipeline(request, console)
    run_script(request)


def run_script(request: RunRequest) -> None:
    """The loop for script tasks: built-in tasks and project folders."""
    loop = _loop(_task_for(request), request)
    _warn_if_busy(request)
    try:
        _start(loop)
        workers = request.workers or loop.executor.workers
        reason = loop.run(request.max_experiments, request.time_budget, workers=workers)
    finally:
        loop.executor.shutdown()
    console.print(escape(reason), highlight=False)
    console.print(summary_line(summarize(loop.history(), loop.study.metric)), highlight=False)
    starved = [e for e in loop.history() if e.status is Status.INTERFERED]
    if starved:
        raise MachineBusy(f"{len(starved)} experiment(s) starved of CPU by other load and not "
                          f"judged ({', '.join(f'#{e.number}' for e in starved)}): run the same "
                          "command when the machine is quieter (it resumes them)")


def baseline(
    task: c.TaskOpt = None,
    train_seconds: c.TrainSecondsOpt = None,
    seeds: c.SeedsOpt = c.DEFAULT_SEEDS,
    storage: c.StorageOpt = c.DEFAULT_STORAGE,
    cache_dir: c.CacheOpt = None,
    offline: c.OfflineOpt = False,
    device: c.DeviceOpt = "auto",
    grace: c.GraceOpt = c.DEFAULT_GRACE,
    max_foreign_load: c.ForeignLoadOpt = c.DEFAULT_FOREIGN_LOAD,
    budget_unit: c.BudgetUnitOpt = "wall",
    project: p.ProjectOpt = None,
    command: p.CommandOpt = None,
    metric: p.MetricOpt = None,
    metric_pattern: p.PatternOpt = None,
    direction: p.DirectionOpt = None,
    edit: p.EditOpt = None,
    eval_command: p.EvalCommandOpt = None,
) -> None:
    """Train the task's baseline on every seed and record it as the study's reference."""
    request = RunRequest(storage=storage, task=task, train_seconds=train_seconds,
                         seeds=c.parse_seeds(seeds), cache_dir=cache_dir, offline=offline,
                         device=device, grace=grace, max_foreign_load=max_foreign_load,
                         budget_unit=c.budget_unit(budget_unit), proposer="offline",
                         project=project,
                         command=command, metric=metric, metric_pattern=metric_pattern,
                         direction=direction, edit=tuple(edit or ()), eval_command=eval_command)
    loop = _loop(_task_for(request), request, propose=False)
    try:
        result = loop.baseline()
    finally:
        loop.executor.shutdown()
    metric_name = loop.study.metric.name
    for run in result.seed_runs:
        console.print(f"seed {run.seed}: {metric_name} = {fmt(run.metric)}", highlight=False)
    p.report_baseline(loop.task, result, console)
    console.print(f"mean {metric_name} = {fmt(result.metric_mean)} ± {fmt(result.metric_std)}",
                  highlight=False)
