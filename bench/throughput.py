"""Experiments per hour with 1 and 2 local workers (and on a local Ray cluster).

    python bench/throughput.py --experiments 12 --train-seconds 5 [--seeds 42] [--ray]

Runs the real loop (offline proposer, sandbox, SQLite) on a fresh store per configuration and
prints experiments and seed runs per hour, the share of the workers' time spent training and
inside seed runs at all (the rest is slots waiting on the driver: proposal, validation, store),
evaluation time and the per-seed overhead (wall time of a seed run beyond training and
evaluation).

One seed per experiment by default: with several, whether the second seed runs depends on the
first one's result, so each configuration would do a different amount of work and experiments
per hour would compare the search's luck rather than the executors.
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
from autoresearch.records import Mode
from autoresearch.sandbox import JobOptions
from autoresearch.search import OfflineProposer
from autoresearch.search.acceptance import Acceptance
from autoresearch.search.strategy import Strategy
from autoresearch.storage import Store
from autoresearch.tasks import get_task


def one(kind: str, workers: int, experiments: int, budget: float,
        seeds: tuple[int, ...]) -> dict[str, float]:
    task = get_task("shakespeare")
    data = task.prepare(Path(tempfile.gettempdir()) / "autoresearch-bench-cache", offline=True)
    store = Store(Path(tempfile.mkdtemp(prefix="autoresearch-tp-")) / "bench.db")
    study = store.study(task.name, task.metric, budget, data.content_hash, data.source)
    executor = make_executor(kind, workers if kind == "local" else None)
    loop = ResearchLoop(task=task, data=data, store=store, study=study,
                        proposer=OfflineProposer(), strategy=Strategy(task.metric),
                        acceptance=Acceptance(task.metric), executor=executor,
                        settings=RunSettings(job=JobOptions(budget_seconds=budget,
                                                            hidden=store.files), seeds=seeds))
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
    return {"per_hour": experiments / wall * 3600, "runs_per_hour": len(runs) / wall * 3600,
            "wall": wall, "eval": sum(r.eval_seconds for r in runs) / max(1, len(runs)),
            "busy": sum(r.wall_seconds for r in runs) / (wall * workers),
            "train_share": train / (wall * workers), "overhead": overhead / max(1, len(runs)),
            "runs": len(runs)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--experiments", type=int, default=12)
    parser.add_argument("--train-seconds", type=float, default=5.0)
    parser.add_argument("--seeds", default="42", help="comma-separated seeds per experiment")
    parser.add_argument("--ray", action="store_true", help="also run on a local Ray cluster")
    args = parser.parse_args()
    seeds = tuple(int(s) for s in args.seeds.split(","))
    configs = [("local", 1), ("local", 2)] + ([("ray", 2)] if args.ray else [])
    results = {c: one(*c, args.experiments, args.train_seconds, seeds) for c in configs}
    table = Table(title=f"throughput: {args.experiments} experiments, seeds {args.seeds}, "
                        f"{args.train_seconds:g}s budget per seed")
    for column in ("executor", "workers", "wall s", "seed runs", "experiments/h",
                   "seed runs/h", "training share", "busy share", "eval/seed s",
                   "overhead/seed s"):
        table.add_column(column, justify="right")
    for (kind, workers), r in results.items():
        table.add_row(kind, str(workers), f"{r['wall']:.0f}", str(r["runs"]),
                      f"{r['per_hour']:.0f}", f"{r['runs_per_hour']:.0f}",
                      f"{100 * r['train_share']:.0f}%", f"{100 * r['busy']:.0f}%",
                      f"{r['eval']:.2f}",
                      f"{r['overhead']:.2f}")
    console = Console(width=150)
    console.print(table)
    one_worker, two = results[("local", 1)]["per_hour"], results[("local", 2)]["per_hour"]
    console.print(f"1 -> 2 workers: {two / one_worker:.2f}x experiments per hour")
    if ("ray", 2) in results:
        ray, local = results[("ray", 2)], results[("local", 2)]
        console.print(f"ray vs local pool (2 workers): {ray['per_hour'] / two:.2f}x experiments "
                      f"per hour, overhead per seed run {ray['overhead']:.2f}s vs "
                      f"{local['overhead']:.2f}s")


if __name__ == "__main__":
    main()
