"""`autoresearch run` for tabular pipelines (a CSV, a pipeline .py or a named dataset): the
research loop with the tabular Task, PipelineStrategy, ComboProposer and TabularExecutor."""

from __future__ import annotations

import ast
import time
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.markup import escape

from autoresearch.analysis.pipeline import pruned, slot_rankings
from autoresearch.analysis.study import summarize
from autoresearch.cli import _common as c
from autoresearch.cli._project import report_baseline
from autoresearch.cli._render import LiveObserver, summary_line
from autoresearch.engine import ResearchLoop
from autoresearch.errors import UsageError
from autoresearch.metric import Metric
from autoresearch.pipeline import datasets, smoke
from autoresearch.pipeline.adapt import Adapted, adapt
from autoresearch.pipeline.catalog import FRAMEWORKS, Renderer, require, space_for
from autoresearch.pipeline.datasets import Source
from autoresearch.pipeline.decompose import Decomposed, decompose
from autoresearch.pipeline.executor import TabularExecutor
from autoresearch.pipeline.proposer import LLMSlotProposer
from autoresearch.pipeline.space import Implementation, SearchSpace
from autoresearch.pipeline.study import FRAMEWORK_MODULES, cores, tabular_loop
from autoresearch.pipeline.table import Checked, Labelled, check, label_places, label_values
from autoresearch.records import Experiment
from autoresearch.search import LLMOptions, connect_llm

if TYPE_CHECKING:
    from autoresearch.cli.research import RunRequest
    from autoresearch.pipeline.table import Table

DEFAULT_TIMEOUT = 300.0  # seconds per CV repeat (a seed run); --train-seconds overrides


def run_pipeline(request: RunRequest, console: Console) -> None:
    if request.task or request.project:
        raise UsageError("a CSV, a pipeline .py or --dataset cannot be combined with --task or "
                         "--project")
    if request.executor != "local":
        raise UsageError("tabular runs use --executor local (parallel workers: --workers N)")
    timeout = DEFAULT_TIMEOUT if request.train_seconds is None else request.train_seconds
    if not timeout > 0:
        raise UsageError(f"--train-seconds must be > 0, got {timeout:g}")
    started = time.monotonic()
    cache = c.cache_dir(request.cache_dir)
    source, framework, parts = _source(request, cache, console)
    require(framework)
    # Bad input is refused before the store is opened and a worker started: it leaves nothing.
    checked = check(source, request.metric)
    ready = _prepared(request, cache, checked, framework, parts, console) \
        if parts is not None else None
    store = c.open_store(request.storage)
    workers = request.workers or len(cores())
    # Started before the table is prepared: the workers import their libraries meanwhile.
    executor = TabularExecutor(workers=workers, cpus=cores(),
                               preload=FRAMEWORK_MODULES.get(framework, ()),
                               hidden=(*store.files,
                                       *label_places(source, cache, request.source)),
                               ahead=request.seeds)
    try:
        table, space, user = ready or _prepared(request, cache, checked, framework, None,
                                                console)
        slots = _slot_proposer(request, table.task_name, console)
        study = store.study(table.task_name, table.metric, timeout, table.content_hash,
                            table.origin)
        executor.load(Labelled.load(table))
        loop = tabular_loop(table, store, executor, framework=framework, space=space,
                            seeds=request.seeds, timeout=timeout, slots=slots,
                            min_delta=request.min_delta,
                            observer=LiveObserver(console, study, store.experiments(study)),
                            split=user.split if user is not None else ())
        console.print(
            f"[bold]{table.task_name}[/]: {table.kind}, {table.rows} rows, {table.metric.name} "
            f"{table.metric.arrow}, {len(request.seeds)} x {table.folds}-fold CV (one repeat "
            f"per seed) + 20% sealed holdout, framework {framework}, {workers} worker(s), data "
            f"{table.origin} ({table.content_hash}), store {store.path}\nproposer: templates"
            f"{' + ' + slots.name if slots else ''}", highlight=False)
        for note in table.notes:
            console.print(f"note: {note}", highlight=False)
        # The user's own pipeline is the baseline: when it fails, nothing can be compared.
        report_baseline(loop.task, loop.baseline(), console)
        budget = None if request.time_budget is None else \
            request.time_budget - (time.monotonic() - started)
        # One experiment more than workers in flight: a worker freed by an early stop finds
        # the next combo's folds already queued.
        reason = loop.run(request.max_experiments, budget, workers=workers + 1)
    finally:
        executor.shutdown()
    console.print(escape(reason), highlight=False)
    _report(console, loop, space)


def _source(request: RunRequest, cache: Path, console: Console
            ) -> tuple[Source, str, Decomposed | None]:
    parts = None
    framework = request.framework
    source_file = request.source
    target = request.target
    if source_file is not None and source_file.suffix == ".py":
        parts = decompose(source_file)
        framework = framework or parts.framework
        target = target or parts.target
        console.print(f"{source_file.name}: {parts.shape} shape, slots {', '.join(parts.slots)}"
                      f", framework {parts.framework}", highlight=False)
        source_file = parts.data_file if request.dataset is None else None
        if source_file is None and request.dataset is None:
            raise UsageError(f"{request.source} reads no CSV file that could be found; pass "
                             "--dataset NAME to run it on a named dataset")
    elif source_file is not None and request.dataset is not None:
        raise UsageError("pass either a CSV file or --dataset, not both")
    framework = framework or "sklearn"
    if framework not in FRAMEWORKS:
        raise UsageError(f"--framework must be one of {', '.join(FRAMEWORKS)}, got "
                         f"{framework!r}")
    if request.dataset is not None:
        source = datasets.named(request.dataset, cache, request.offline)
        if target is not None and target != source.target:
            raise UsageError(f"dataset {source.name} predicts {source.target!r}; drop --target")
    else:
        assert source_file is not None
        try:
            source = datasets.csv_file(source_file, target)
        except UsageError as exc:
            if parts is None or target is not None:
                raise
            raise UsageError(f"which column does {parts.path.name} predict? The code names "
                             "none (no TARGET constant, y = df[...], drop(columns=[...])); "
                             f"{exc}") from None
    return source, framework, parts


def _prepared(request: RunRequest, cache: Path, checked: Checked, framework: str,
              parts: Decomposed | None, console: Console
              ) -> tuple[Table, SearchSpace, Adapted | None]:
    """The table, its search space and, for a pipeline file, the user's functions in it (run
    once on a slice)."""
    table = checked.prepare(cache, request.seeds)
    space = space_for(framework, table.kind)
    if parts is None:
        return table, space, None
    user = _user(parts, table, console)
    space = _with_user(space, list(user.implementations))
    _smoke(parts, user, space, framework, table)
    return table, space, user


def _user(parts: Decomposed, table: Table, console: Console) -> Adapted:
    """The user's functions as slot implementations; says how the file was split."""
    user = adapt(parts, table.target, label_values(table),
                 f"{table.name}, {table.rows} rows, target {table.target!r}")
    console.print(f"{parts.path.name} split into slots:", highlight=False)
    for slot, source in user.split:
        console.print(f"  {slot}: {source}", highlight=False)
    for note in user.notes:
        console.print(f"note: {note}", highlight=False)
    return user


def _smoke(parts: Decomposed, user: Adapted, space: SearchSpace, framework: str,
           table: Table) -> None:
    """Fail fast: the user's pipeline once through the harness on a slice, before any
    experiment is recorded."""
    code = Renderer(space, framework, table.kind, table.metric.name).render(
        space.default_combo())
    found = {s.slot: s.signature for s in parts.found}
    if parts.pipeline is not None:
        found = dict.fromkeys(("engineer_features", "build_model"),
                              ast.unparse(parts.pipeline)[:80])
    smoke.check(code, Labelled.load(table), parts.path, found)


def _with_user(space: SearchSpace, user: list[Implementation]) -> SearchSpace:
    """The user's implementations first in their slot: the baseline is their own pipeline."""
    if not user:
        return space
    ordered = [i for slot in space.slots
               for i in [*(u for u in user if u.slot == slot), *space.of(slot)]]
    return SearchSpace(space.slots, tuple(ordered), space.model_slot, space.coverage,
                       space.fixed)


def _why_none(history: list[Experiment], baseline: Experiment, metric: Metric) -> str:
    """Why the baseline still stands: the closest challenger and what held it back."""
    measured = [e for e in history if e.metric_mean is not None and e.id != baseline.id]
    if not measured:
        failed = len(history) - 1
        return (f"no combo beat your pipeline: none of the {failed} experiment(s) produced a "
                "score; see `autoresearch status` for their reasons")
    best = min(measured, key=lambda e: metric.sort_key(e.metric_mean))
    return (f"no combo beat your pipeline: the closest, #{best.number} "
            f"({best.proposal.description}), scored {best.metric_mean:.4f} against "
            f"{baseline.metric_mean:.4f} ({best.reason}); raise -n to search further")


def _slot_proposer(request: RunRequest, task: str, console: Console) -> LLMSlotProposer | None:
    options = LLMOptions(request.provider, request.model, request.base_url, request.max_cost,
                         request.max_tokens)
    connected = connect_llm(request.proposer, options,
                            notify=lambda m: console.print(f"   {m}", highlight=False))
    if connected is None:
        return None
    chat, prices = connected
    return LLMSlotProposer(chat, prices, task, max_tokens=request.max_tokens or 4096,
                           max_cost=request.max_cost)


def _report(console: Console, loop: ResearchLoop, space: SearchSpace) -> None:
    history: list[Experiment] = loop.history()
    metric = loop.study.metric
    summary = summarize(history, metric)
    console.print(summary_line(summary), highlight=False)
    if summary.kept == 0 and summary.baseline is not None:
        console.print(_why_none(history, summary.baseline, metric), highlight=False)
    for slot in space.slots:
        top = [r for r in slot_rankings(history, metric) if r.slot == slot][:3]
        if top:
            console.print(f"  {slot}: " + ", ".join(
                f"{r.implementation} {r.best:.4f}" if r.best is not None
                else f"{r.implementation} -" for r in top), highlight=False)
    dead = pruned(history, metric)
    if dead:
        console.print("  pruned: " + "; ".join(f"{p.slot}:{p.name} ({p.kind})"
                                                 for p in dead[:8]), highlight=False)
