"""Where the wall time of an experiment goes: training, evaluation, and everything else.

    python bench/overhead.py --experiments 4 --train-seconds 30

Runs the real loop (offline proposer, sandboxed subprocesses, SQLite) on a temporary store and
prints, per experiment and in total, wall time split into training, evaluation, subprocess
start-up + imports, process teardown, validation, proposal and store. Overhead is everything
that is neither training nor evaluation.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from autoresearch.engine import ResearchLoop, RunSettings
from autoresearch.execution import LocalExecutor
from autoresearch.sandbox import JobOptions
from autoresearch.search import OfflineProposer
from autoresearch.search.acceptance import Acceptance
from autoresearch.search.strategy import Strategy
from autoresearch.storage import Store
from autoresearch.tasks import get_task

timers: dict[str, float] = defaultdict(float)


def timed(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            timers[name] += time.perf_counter() - t0

    return wrapper


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", default="shakespeare")
    parser.add_argument("--experiments", type=int, default=4)
    parser.add_argument("--train-seconds", type=float, default=30.0)
    parser.add_argument("--seeds", default="42,137")
    args = parser.parse_args()

    task = get_task(args.task)
    tmp = Path(tempfile.mkdtemp(prefix="autoresearch-bench-"))
    data = task.prepare(Path.home() / ".cache" / "autoresearch", offline=True)
    store = Store(tmp / "bench.db")
    for method in ("add_experiment", "add_seed_run", "finish_experiment", "experiments",
                   "experiment", "study"):
        setattr(store, method, timed("store", getattr(store, method)))
    # Tasks are frozen records; the timer wraps this one instance's method only.
    object.__setattr__(task, "validate", timed("validation", task.validate))
    proposer = OfflineProposer()
    proposer.propose = timed("proposal", proposer.propose)  # type: ignore[method-assign]
    study = store.study(task.name, task.metric, args.train_seconds, data.content_hash,
                        data.source)
    loop = ResearchLoop(task=task, data=data, store=store, study=study, proposer=proposer,
                        strategy=Strategy(task.metric), acceptance=Acceptance(task.metric),
                        executor=LocalExecutor(),
                        settings=RunSettings(job=JobOptions(args.train_seconds),
                                             seeds=tuple(int(s) for s in args.seeds.split(","))))
    rows: list[dict[str, float]] = []
    for i in range(args.experiments + 1):
        timers.clear()
        t0 = time.perf_counter()
        experiment = loop.baseline() if i == 0 else loop.step()
        wall = time.perf_counter() - t0
        runs = experiment.seed_runs
        train = sum(r.train_seconds for r in runs)
        evaluation = sum(r.eval_seconds for r in runs)
        startup = sum(r.startup_seconds for r in runs)
        teardown = sum(r.wall_seconds - r.train_seconds - r.eval_seconds - r.startup_seconds
                       for r in runs)
        rows.append({"number": experiment.number, "seeds": len(runs), "wall": wall,
                     "train": train, "eval": evaluation, "startup": startup,
                     "teardown": teardown, "validation": timers["validation"],
                     "proposal": timers["proposal"], "store": timers["store"]})
    loop.executor.shutdown()

    table = Table(title=f"{task.name}: wall time per experiment, budget {args.train_seconds:g}s "
                        "per seed")
    columns = ("wall", "train", "eval", "startup", "teardown", "validation", "proposal", "store")
    table.add_column("#", justify="right")
    table.add_column("seeds", justify="right")
    for column in (*columns, "overhead", "overhead %"):
        table.add_column(column, justify="right")
    for row in [*rows, {k: sum(r[k] for r in rows) for k in rows[0]}]:
        overhead = row["wall"] - row["train"] - row["eval"]
        label = "all" if row is not rows[-1] and row not in rows else str(int(row["number"]))
        table.add_row(label, str(int(row["seeds"])), *(f"{row[c]:.2f}" for c in columns),
                      f"{overhead:.2f}", f"{100 * overhead / row['wall']:.1f}%")
    Console().print(table)
    total = {k: sum(r[k] for r in rows) for k in rows[0]}
    per_seed = (total["wall"] - total["train"] - total["eval"]) / max(1, total["seeds"])
    Console().print(f"overhead per seed run: {per_seed:.2f}s = "
                    f"{100 * per_seed / args.train_seconds:.1f}% of a {args.train_seconds:g}s "
                    "budget")


if __name__ == "__main__":
    main()
