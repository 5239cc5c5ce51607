"""Start-up cost of a seed run: from "launch" to the first line of candidate code.

    python bench/startup.py --runs 20

Plain subprocess (a fresh interpreter imports torch and the harness every time) against the
fork server (torch and the harness imported once per worker slot), same sandbox, same task;
the median and the 90th percentile of `--runs` runs each, measured by the run itself.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

from rich.console import Console
from rich.table import Table

from autoresearch.execution import LocalExecutor, Slot
from autoresearch.sandbox import JobOptions
from autoresearch.tasks import PreparedData, ScriptTask, get_task

CANDIDATE = """\
import torch
import harness
model = torch.nn.Embedding(256, 256)
harness.evaluate(model, context=64)
"""


def measure(fork_server: bool, runs: int, task: ScriptTask, data: PreparedData) -> list[float]:
    executor = LocalExecutor([Slot(0, ())], fork_server=fork_server)
    startups = []
    try:
        for i in range(runs + 1):
            job = task.seed_job(CANDIDATE, i, data, JobOptions(budget_seconds=1.0))
            run = executor.submit(job).result()
            if run.failure is not None:
                raise SystemExit(f"run failed: {run.reason}\n{run.log_tail}")
            if i > 0:  # the first run of a fork server pays for starting it
                startups.append(run.startup_seconds)
    finally:
        executor.shutdown()
    return startups


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    task = get_task("shakespeare")
    data = task.prepare(Path(tempfile.gettempdir()) / "autoresearch-bench-cache", offline=True)
    table = Table(title=f"seed-run start-up, launch to first candidate line ({args.runs} runs)")
    for column in ("launcher", "median s", "p90 s", "min s"):
        table.add_column(column, justify="right")
    medians = {}
    for name, fork in (("plain subprocess", False), ("fork server", True)):
        values = sorted(measure(fork, args.runs, task, data))
        medians[name] = statistics.median(values)
        table.add_row(name, f"{medians[name]:.3f}", f"{values[int(0.9 * len(values))]:.3f}",
                      f"{values[0]:.3f}")
    console = Console()
    console.print(table)
    console.print(f"speed-up of the median: "
                  f"{medians['plain subprocess'] / medians['fork server']:.0f}x")


if __name__ == "__main__":
    main()
