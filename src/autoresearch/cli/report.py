"""`report`: one self-contained HTML file describing a study."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from autoresearch.cli import _common as c

console = Console()


def report(
    output: Annotated[Path, typer.Option(
        "--output", "-o", help="HTML file to write.")] = Path("report.html"),
    task: c.TaskOpt = None,
    train_seconds: c.TrainSecondsOpt = None,
    storage: c.StorageOpt = c.DEFAULT_STORAGE,
    project: c.ProjectDirOpt = None,
    cdn: Annotated[bool, typer.Option(
        "--cdn", help="Load plotly.js from its CDN: a file of a few hundred KB that needs a "
        "network to display, instead of one that works offline (~5 MB).")] = False,
) -> None:
    """Write an HTML report of the study: summary, progression, top experiments with diffs,
    failures, categories, cost, insights, knob importance and seed spread."""
    # Plotly and Optuna's importance module take seconds to import: only `report` pays.
    from autoresearch.ui.report import ReportOptions, write_report

    started = time.perf_counter()
    store = c.open_store(storage, create=False)
    try:
        study = c.pick_study(store, task, train_seconds, project)
        experiments = store.experiments(study)
    finally:
        store.close()
    size = write_report(output, study, experiments, ReportOptions(cdn=cdn))
    console.print(f"wrote {output} ({size / 1e6:.1f} MB, {len(experiments)} experiments) in "
                  f"{time.perf_counter() - started:.1f}s", highlight=False)
