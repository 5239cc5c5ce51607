"""Experiments per hour with 1 and 2 local workers (and on a local Ray cluster).

    python bench/throughput.py --experiments 6 --train-seconds 5 [--ray]

Runs the real loop (offline proposer, sandbox, SQLite) on a fresh store per configuration and
prints experiments per hour, the share of wall time spent training, and the per-seed overhead
(wall time of a seed run beyond its training and evaluation).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from autoresearch.engine import ResearchLoop, RunSettings
from autoresearch.execution import make_executor
from autoresearch.sandbox import JobOptions
from autoresearch.search import OfflineProposer
from autoresearch.search.acceptance import Acceptance
from autoresearch.search.strategy import Strategy
from autoresearch.storage import Mode, Store
from autoresearch.tasks import get_task


def one(kind: str, workers: int, experiments: int, budget: float) -> dict[str, float]:
    task = get_task("shakespeare")
    data = task.prepare(Path(tempfile.gettempdir()) / "autoresearch-bench-cache", offline=True)
    store = Store(Path(tempfile.mkdtemp(prefix="autoresearch-tp-")) / "bench.db")
    study = store.study(task.name, task.metric, budget, data.content_hash, data.source)
    executor = make_executor(kind, workers if kind == "local" else None)
    loop = ResearchLoop(task=task, data=data, store=store, study=study,
                        proposer=OfflineProposer(), strategy=Strategy(task.metric),
                        acceptance=Acceptance(task.metric), executor=executor,
                        settings=RunSettings(job=JobOptions(budget_seconds=budget,
                                                            hidden=store.files)))
    try:
        loop.baseline()
        t0 = time.perf_counter()
        loop.run(experiments, workers=workers)
        wall = time.perf_counter() - t0
    finally:
        executor.shutdown()
    runs = [r for e in loop.history() if e.proposal.mode is not Mode.BASELINE
            for r in e.seed_runs]
    train = sum(r.train_seconds for r in runs)
    overhead = sum(r.wall_seconds - r.train_seconds - r.eval_seconds for r in runs)
    return {"per_hour": experiments / wall * 3600, "wall": wall,
            "train_share": train / (wall * workers), "overhead": overhead / max(1, len(runs)),
            "runs": len(runs)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--experiments", type=int, default=6)
    parser.add_argument("--train-seconds", type=float, default=5.0)
    parser.add_argument("--ray", action="store_true", help="also run on a local Ray cluster")
    args = parser.parse_args()
    configs = [("local", 1), ("local", 2)] + ([("ray", 2)] if args.ray else [])
    results = {c: one(*c, args.experiments, args.train_seconds) for c in configs}
    table = Table(title=f"throughput: {args.experiments} experiments, "
                        f"{args.train_seconds:g}s budget per seed")
    for column in ("executor", "workers", "wall s", "seed runs", "experiments/hour",
                   "training share", "overhead/seed s"):
        table.add_column(column, justify="right")
    for (kind, workers), r in results.items():
        table.add_row(kind, str(workers), f"{r['wall']:.0f}", str(r["runs"]),
                      f"{r['per_hour']:.0f}", f"{100 * r['train_share']:.0f}%",
                      f"{r['overhead']:.2f}")
    console = Console()
    console.print(table)
    one_worker, two = results[("local", 1)]["per_hour"], results[("local", 2)]["per_hour"]
    console.print(f"1 -> 2 workers: {two / one_worker:.2f}x experiments per hour")


if __name__ == "__main__":
    main()
