"""`autoresearch run` for tabular pipelines: a CSV, a pipeline .py or a named dataset."""

from __future__ import annotations

import math
import os
import time
from typing import TYPE_CHECKING

from rich.console import Console

from autoresearch.analysis.pipeline import pruned, slot_rankings
from autoresearch.analysis.study import summarize
from autoresearch.cli import _common as c
from autoresearch.cli._render import LiveObserver, summary_line
from autoresearch.errors import UsageError
from autoresearch.pipeline import datasets
from autoresearch.pipeline.catalog import FRAMEWORKS, space_for
from autoresearch.pipeline.coordinator import Coordinator
from autoresearch.pipeline.decompose import decompose
from autoresearch.pipeline.proposer import LLMSlotProposer, SlotProposer
from autoresearch.pipeline.runs import WorkerOptions
from autoresearch.pipeline.space import Implementation, SearchSpace
from autoresearch.pipeline.table import prepare
from autoresearch.pipeline.tabular import TabularBackend

if TYPE_CHECKING:
    from autoresearch.cli.research import RunRequest

BUDGET_PER_ROUND = 10
DEFAULT_TIMEOUT = 300.0  # seconds per combo (all its CV folds); --train-seconds overrides
LLM_SHARE = 5  # with a model: one experiment in this many is an LLM round
MAX_DEFAULT_WORKERS = 4


def run_pipeline(request: RunRequest, console: Console) -> None:
    started = time.monotonic()
    if request.task or request.project:
        raise UsageError("a CSV, a pipeline .py or --dataset cannot be combined with --task or "
                         "--project")
    if request.executor != "local":
        raise UsageError("tabular runs use --executor local (parallel workers: --workers N)")
    cache = c.cache_dir(request.cache_dir)
    user: list[Implementation] = []
    framework = request.framework
    source_file = request.source
    target = request.target
    if source_file is not None and source_file.suffix == ".py":
        parts = decompose(source_file)
        user = list(parts.implementations)
        framework = framework or parts.framework
        target = target or parts.target
        console.print(f"{source_file.name}: slots {', '.join(parts.slots)}, framework "
                      f"{parts.framework}", highlight=False)
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
        source = datasets.csv_file(source_file, target)
    table = prepare(source, cache, request.seeds, metric=request.metric)
    space = _with_user(space_for(framework, table.kind), user)
    store = c.open_store(request.storage)
    timeout = DEFAULT_TIMEOUT if request.train_seconds is None else request.train_seconds
    if not timeout > 0:
        raise UsageError(f"--train-seconds must be > 0, got {timeout:g}")
    # Several single-threaded fits side by side use the cores better than one threaded fit.
    workers = request.workers or max(1, min(MAX_DEFAULT_WORKERS, os.cpu_count() or 1))
    options = WorkerOptions(timeout=timeout, workers=workers, hidden=store.files)
    backend = TabularBackend(table, framework, options, space)
    study = store.study(table.task_name, table.metric, timeout, table.content_hash, table.origin)
    proposer = _slot_proposer(request, table.task_name)
    console.print(
        f"[bold]{table.task_name}[/]: {table.kind}, {table.rows} rows, {table.metric.name} "
        f"{table.metric.arrow}, {len(table.seeds)} x {table.folds}-fold CV + 20% sealed holdout, "
        f"framework {framework}, {workers} worker(s), data {table.origin} ({table.content_hash}), "
        f"store {store.path}"
        f"\nproposer: templates{' + ' + proposer.name if proposer else ''}", highlight=False)
    for note in table.notes:
        console.print(f"note: {note}", highlight=False)
    deadline = started + request.time_budget if request.time_budget else None
    llm_rounds = max(1, request.max_experiments // LLM_SHARE) if proposer else 0
    coordinator = Coordinator(
        backend, min(BUDGET_PER_ROUND, max(1, request.max_experiments)), store=store,
        study=study, min_delta=request.min_delta, slot_proposer=proposer,
        observer=LiveObserver(console, study, store.experiments(study)),
        max_experiments=request.max_experiments - llm_rounds, deadline=deadline)
    rounds = math.ceil(request.max_experiments / coordinator.budget) + 1
    coordinator.run(n_rounds=rounds, llm_rounds=0)
    coordinator.max_experiments = request.max_experiments
    if llm_rounds:
        coordinator.run(n_rounds=0, llm_rounds=llm_rounds)
    history = coordinator.history()
    if len([e for e in history if e.proposal.mode.value != "baseline"]) \
            >= request.max_experiments:
        console.print(f"the study holds {request.max_experiments}+ experiments "
                      "(--max-experiments); raise it to continue")
    _report(console, coordinator, history)


def _with_user(space: SearchSpace, user: list[Implementation]) -> SearchSpace:
    """The user's implementations first in their slot: the baseline is their own pipeline."""
    if not user:
        return space
    ordered = [i for slot in space.slots
               for i in [*(u for u in user if u.slot == slot), *space.of(slot)]]
    return SearchSpace(space.slots, tuple(ordered), space.model_slot, space.coverage,
                       space.fixed)


def _slot_proposer(request: RunRequest, task: str) -> SlotProposer | None:
    if request.proposer == "offline":
        return None
    if request.proposer not in ("auto", "llm", "hybrid"):
        raise UsageError(f"--proposer must be auto, offline, llm or hybrid, got "
                         f"{request.proposer!r}")
    from autoresearch.llm import PriceTable, connect, resolve

    prices = PriceTable.load(os.environ)
    endpoint = resolve(request.provider, request.model, request.base_url, os.environ,
                       prices.models_by_provider())
    if endpoint is None:
        if request.proposer == "auto":
            return None
        raise UsageError(f"--proposer {request.proposer} needs a provider: set an API key "
                         "(e.g. ANTHROPIC_API_KEY) or pass --provider / --base-url; or use "
                         "--proposer offline")
    return LLMSlotProposer(connect(endpoint), task, max_tokens=request.max_tokens or 4096)


def _report(console: Console, coordinator: Coordinator, history: list) -> None:
    metric = coordinator.metric
    console.print(summary_line(summarize(history, metric)), highlight=False)
    for slot in coordinator.space.slots:
        top = [r for r in slot_rankings(history, metric) if r.slot == slot][:3]
        if top:
            console.print(f"  {slot}: " + ", ".join(
                f"{r.implementation} {r.best:.4f}" if r.best is not None
                else f"{r.implementation} -" for r in top), highlight=False)
    dead = pruned(history, metric)
    if dead:
        console.print("  pruned: " + "; ".join(f"{p.slot}:{p.name} ({p.kind})"
                                                 for p in dead[:8]), highlight=False)
