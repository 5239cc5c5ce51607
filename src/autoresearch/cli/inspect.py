"""`status`, `export` and `tasks`: read-only views of the store and the registry."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from autoresearch.analysis.entities import changed_entities
from autoresearch.analysis.pipeline import user_split
from autoresearch.analysis.study import summarize
from autoresearch.cli import _common as c
from autoresearch.cli._render import experiments_table, fmt, summary_line
from autoresearch.errors import UsageError
from autoresearch.records import Experiment, Status
from autoresearch.tasks import all_tasks

console = Console()


def status(
    task: c.TaskOpt = None,
    train_seconds: c.TrainSecondsOpt = None,
    storage: c.StorageOpt = c.DEFAULT_STORAGE,
    project: c.ProjectDirOpt = None,
) -> None:
    """Table of the study's experiments, best first in the summary line."""
    store = c.open_store(storage, create=False)
    study = c.pick_study(store, task, train_seconds, project)
    experiments = store.experiments(study)
    summary = summarize(experiments, study.metric)
    baseline = summary.baseline.metric_mean if summary.baseline else None
    console.print(experiments_table(study, experiments, baseline))
    console.print(summary_line(summary), highlight=False)
    split = user_split(experiments, study.metric)
    if split:
        console.print("your pipeline, split into slots:", highlight=False)
        for part in split:
            console.print(f"  {part.slot}: {part.source}", highlight=False)


EXPORT_COLUMNS = ("number", "status", "mode", "category", "description", "changed", "metric_mean",
                  "metric_std", "test_mean", "seeds", "seed_metrics", "screens", "failure_kind",
                  "reason", "parent", "proposer", "train_seconds", "wall_seconds", "cost_usd",
                  "cost_cumulative_usd", "llm_model", "input_tokens", "output_tokens",
                  "cache_write_tokens", "cache_read_tokens")


def _export_row(e: Experiment, by_id: dict[int, Experiment]) -> dict[str, object]:
    usage = e.proposal.usage
    sealed = e.test_mean if e.status is Status.KEPT else None
    return {
        "number": e.number, "status": e.status.value, "mode": e.proposal.mode.value,
        "category": e.proposal.category, "description": e.proposal.description,
        "changed": changed_entities(e, by_id),
        "metric_mean": e.metric_mean, "metric_std": e.metric_std, "test_mean": sealed,
        "seeds": ",".join(str(r.seed) for r in e.seed_runs),
        "seed_metrics": ",".join(fmt(r.metric, 6) for r in e.seed_runs),
        # seed:fraction:score of each screening run (a fraction of the budget, not a score)
        "screens": ",".join(f"{r.seed}:{r.screen:g}:{fmt(r.metric, 6)}" for r in e.screens),
        "failure_kind": e.failure.value if e.failure else "", "reason": e.reason,
        "parent": by_id[e.proposal.parent_id].number if e.proposal.parent_id in by_id else "",
        "proposer": e.proposal.proposer,
        "train_seconds": round(sum(r.train_seconds for r in e.every_run), 2),
        "wall_seconds": round(sum(r.wall_seconds for r in e.every_run), 2),
        "cost_usd": usage.cost_usd if usage else None,
        "llm_model": usage.model if usage else "",
        "input_tokens": usage.input_tokens if usage else 0,
        "output_tokens": usage.output_tokens if usage else 0,
        "cache_write_tokens": usage.cache_write_tokens if usage else 0,
        "cache_read_tokens": usage.cache_read_tokens if usage else 0,
    }


def export(
    output: Annotated[Path, typer.Option("--output", "-o", help="File to write: .tsv, .csv or "
                                         ".json (by extension).")],
    task: c.TaskOpt = None,
    train_seconds: c.TrainSecondsOpt = None,
    storage: c.StorageOpt = c.DEFAULT_STORAGE,
    project: c.ProjectDirOpt = None,
) -> None:
    """Write every experiment of the study to a file (the sealed test only for kept ones)."""
    suffix = output.suffix.lower()
    if suffix not in (".tsv", ".csv", ".json"):
        raise UsageError(f"cannot tell the format of {output}; end it with .tsv, .csv or .json")
    store = c.open_store(storage, create=False)
    study = c.pick_study(store, task, train_seconds, project)
    experiments = store.experiments(study)
    by_id = {e.id: e for e in experiments}
    rows = [_export_row(e, by_id) for e in experiments]
    spent = 0.0
    for row in rows:
        spent += row["cost_usd"] or 0.0  # type: ignore[operator]
        row["cost_cumulative_usd"] = round(spent, 6)
    try:
        with open(output, "w", newline="", encoding="utf-8") as handle:
            if suffix == ".json":
                json.dump({"task": study.task, "metric": study.metric.name,
                           "direction": study.metric.direction.value,
                           "budget_seconds": study.budget_seconds, "data_hash": study.data_hash,
                           "experiments": rows}, handle, indent=2)
            else:
                writer = csv.DictWriter(handle, EXPORT_COLUMNS,
                                        delimiter="\t" if suffix == ".tsv" else ",")
                writer.writeheader()
                writer.writerows(rows)
    except OSError as exc:
        raise UsageError(f"cannot write {output}: {exc.strerror}") from None
    console.print(f"wrote {len(rows)} experiments to {output}")


def tasks() -> None:
    """List the built-in tasks with their metric, direction and default budget."""
    table = Table(title="tasks")
    for column in ("task", "metric", "direction", "budget", "description"):
        table.add_column(column)
    for task in all_tasks().values():
        table.add_row(task.name, task.metric.name, task.metric.direction.value,
                      f"{task.default_budget:g}s", task.description)
    console.print(table)
