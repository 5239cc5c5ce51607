"""The research loop wired for a prepared table: the one place that puts the tabular Task,
PipelineStrategy, ComboProposer and TabularExecutor together (the CLI, the bench and the tests
use it)."""

from __future__ import annotations

import os
from pathlib import Path

from autoresearch.engine import Observer, ResearchLoop, RunSettings
from autoresearch.execution.hardware import detect
from autoresearch.pipeline.catalog import Renderer, space_for
from autoresearch.pipeline.executor import TabularExecutor
from autoresearch.pipeline.proposer import ComboProposer, SlotProposer
from autoresearch.pipeline.space import SearchSpace
from autoresearch.pipeline.strategy import LLMTurns, PipelineStrategy
from autoresearch.pipeline.table import Labelled, Table
from autoresearch.pipeline.task import TabularTask
from autoresearch.sandbox import JobOptions
from autoresearch.search.acceptance import Acceptance
from autoresearch.storage import Store

BUDGET_PER_ROUND = 10
LLM_SHARE = 5  # with a model: after the first round, one experiment in this many is an LLM turn
FRAMEWORK_MODULES = {"xgboost": ("xgboost",), "lightgbm": ("lightgbm",),
                     "catboost": ("catboost",), "pytorch": ("torch",), "keras": ("keras",),
                     "statsmodels": ("statsmodels.api",)}


def cores() -> tuple[int, ...]:
    return detect().cpus or tuple(range(os.cpu_count() or 1))


def tabular_loop(table: Table, store: Store, executor: TabularExecutor | None = None, *,
                 framework: str = "sklearn", space: SearchSpace | None = None,
                 seeds: tuple[int, ...] | None = None, timeout: float = 300.0,
                 workers: int | None = None, slots: SlotProposer | None = None,
                 min_delta: float = 0.0, hidden: tuple[Path, ...] = (),
                 early_stop: bool = True, observer: Observer | None = None,
                 split: tuple[tuple[str, str], ...] = ()) -> ResearchLoop:
    """Without `executor`, one is started here: `workers` warm table workers (default: one per
    core), `hidden` masked from them beside the store and the table, hopeless repeats stopped
    early unless `early_stop` is off. `timeout`: seconds per CV repeat. `split`: how a user's
    pipeline file filled the slots, recorded with the baseline. The caller shuts
    `loop.executor` down."""
    space = space or space_for(framework, table.kind)
    task = TabularTask(table, space, Renderer(space, framework, table.kind, table.metric.name),
                       default_budget=timeout, split=split)
    study = store.study(table.task_name, table.metric, timeout, table.content_hash, table.origin)
    if executor is None:
        available = cores()
        executor = TabularExecutor(Labelled.load(table), workers=workers or len(available),
                                   cpus=available, preload=FRAMEWORK_MODULES.get(framework, ()),
                                   hidden=(*store.files, table.directory, *hidden),
                                   early_stop=early_stop, ahead=seeds or table.seeds)
    llm = LLMTurns(every=LLM_SHARE, start=BUDGET_PER_ROUND) if slots else None
    loop = ResearchLoop(
        task=task, data=task.prepare(table.directory, True), store=store, study=study,
        proposer=ComboProposer(task.render, slots),
        strategy=PipelineStrategy(space, table.metric, budget_per_round=BUDGET_PER_ROUND,
                                  llm=llm),
        # A CV repeat of the same code and seed is bit-identical: no run noise to model.
        acceptance=Acceptance(table.metric, min_delta, sequential=False), executor=executor,
        settings=RunSettings(job=JobOptions(budget_seconds=timeout),
                             seeds=seeds or table.seeds, repeats=0),
        observer=observer)
    executor.bar = lambda: loop.best_score
    return loop
