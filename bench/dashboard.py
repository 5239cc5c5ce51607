"""Latency of the dashboard on a large store, measured against the running server.

    python bench/dashboard.py --experiments 5000 --requests 100

Builds a synthetic store through the Store API (real SQLite file: code, diffs, two seed runs
each with a loss curve and a log tail, a mix of kept / discarded / failed), starts the real
`autoresearch dashboard` command as a subprocess, and times full HTTP requests (new connection
each) to the main view, the table partial and the other endpoints a page polls. The dashboard
rebuilds a study's listing only when the store changed, so each endpoint is timed twice: on an
unchanged store (what most polls see) and right after one more experiment was written (what
the first poll after a result sees). Prints p50, p95 and max per endpoint, and the size.
"""

from __future__ import annotations

import argparse
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import replace
from pathlib import Path

from rich.console import Console
from rich.table import Table

from autoresearch.metric import Direction, Metric
from autoresearch.records import FailureKind, Mode, Proposal, SeedRun, Status
from autoresearch.storage import Store, Study
from autoresearch.tasks import get_task

FAILURES = (FailureKind.CRASH, FailureKind.TIMEOUT, FailureKind.OOM, FailureKind.DIVERGENCE,
            FailureKind.VALIDATION, FailureKind.SYNTAX)
CATEGORIES = ("hyperparameter", "architectural", "optimizer", "regularization")
MODES = (Mode.INCREMENTAL, Mode.INCREMENTAL, Mode.INCREMENTAL, Mode.EXPLORATION,
         Mode.DIVERSIFICATION)
METRIC = Metric("val_bpb", Direction.MIN)
CODE = get_task("shakespeare").baseline_source()


def build_store(path: Path, experiments: int, seed: int = 0) -> None:
    """A study shaped like a long real run: ~15% kept, ~25% failed, the rest discarded."""
    rng = random.Random(seed)
    store = Store(path)
    study = store.study("shakespeare", METRIC, 30.0, "bench0000000", "synthetic")
    kept: list[tuple[int, float]] = []
    for _ in range(experiments + 1):
        parent_id, parent_value = rng.choice(kept[-3:]) if kept else (None, 3.3)
        experiment_id, mean, status = append(store, study, rng, parent_id, parent_value)
        if status is Status.KEPT and mean is not None:
            kept.append((experiment_id, mean))
    store.close()


def append(store: Store, study: Study, rng: random.Random, parent_id: int | None,
           parent_value: float) -> tuple[int, float | None, Status]:
    """One finished experiment, written as the loop writes it (row, seed runs, verdict)."""
    baseline = parent_id is None
    proposal = Proposal(
        code=CODE + f"\n# variant {rng.random()}\n", category=rng.choice(CATEGORIES),
        description="baseline" if baseline else
        f"LR {rng.uniform(1e-3, 1e-2):.2e} -> {rng.uniform(1e-3, 1e-2):.2e}, "
        f"N_LAYER {rng.randint(2, 6)}",
        mode=Mode.BASELINE if baseline else rng.choice(MODES), parent_id=parent_id,
        proposer="offline", hypothesis="" if baseline else "a larger step size helps",
        knobs={"LR": round(rng.uniform(3e-4, 3e-2), 5), "N_LAYER": rng.randint(2, 6),
               "DROPOUT": rng.choice([0.0, 0.1, 0.2])},
    )
    diff = "" if baseline else (f"--- parent\n+++ candidate\n@@ -10,1 +10,1 @@\n"
                                f"-LR = 3e-3\n+LR = {rng.uniform(1e-3, 1e-2):.2e}\n")
    experiment = store.add_experiment(study, proposal, diff, [42, 137])
    failure = None if baseline or rng.random() > 0.25 else rng.choice(FAILURES)
    runs = []
    for seed_value in (42, 137):
        if failure is not None:
            runs.append(SeedRun(seed=seed_value, failure=failure, reason="synthetic failure",
                                wall_seconds=rng.uniform(1, 40),
                                log_tail="Traceback (most recent call last):\n" * 20))
            break
        value = parent_value if baseline else parent_value + rng.gauss(0.02, 0.05)
        runs.append(SeedRun(
            seed=seed_value, failure=None, metric=value, test_metric=value + 0.01,
            train_seconds=30.0, eval_seconds=2.0, startup_seconds=1.5, wall_seconds=34.0,
            peak_rss_mb=600.0, steps=900,
            loss_curve=tuple((s, 5.5 * (0.98 ** s) + value) for s in range(0, 900, 18)),
            log_tail="step 900 loss 2.95\n" * 60,
        ))
    for run in runs:
        store.add_seed_run(experiment.id, run)
    done = replace(experiment, seed_runs=tuple(runs))
    mean = done.metric_mean
    if failure is not None:
        status, reason = failure.status, "synthetic failure"
    elif baseline or (mean is not None and METRIC.is_better(mean, parent_value)):
        status, reason = Status.KEPT, "better than its parent"
    else:
        status, reason = Status.DISCARDED, "not better"
    store.finish_experiment(done.finish(status, failure, reason, time.time()))
    return experiment.id, mean, status


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def fetch(url: str) -> tuple[float, int]:
    t0 = time.perf_counter()
    with urllib.request.urlopen(url, timeout=30) as response:
        size = len(response.read())
        if response.status != 200:
            raise RuntimeError(f"{url}: HTTP {response.status}")
    return time.perf_counter() - t0, size


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--experiments", type=int, default=5000)
    parser.add_argument("--requests", type=int, default=100, help="per endpoint")
    parser.add_argument("--cold-requests", type=int, default=20,
                        help="per endpoint, each after writing one more experiment")
    parser.add_argument("--store", type=Path, help="reuse (or create) this store file")
    parser.add_argument("--markdown", action="store_true", help="also print a Markdown table")
    args = parser.parse_args()
    console = Console()

    path = args.store or Path(tempfile.mkdtemp(prefix="autoresearch-dash-")) / "bench.db"
    if not path.exists():
        t0 = time.perf_counter()
        build_store(path, args.experiments)
        console.print(f"built {path} with {args.experiments} experiments in "
                      f"{time.perf_counter() - t0:.1f}s ({path.stat().st_size / 1e6:.1f} MB)")

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [sys.executable, "-m", "autoresearch", "dashboard", "--storage", str(path),
         "--port", str(port)], stdout=subprocess.DEVNULL, env=dict(os.environ))
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(base + "/healthz", timeout=5).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit("the dashboard did not start") from None
                time.sleep(0.2)
        first = fetch(base + "/")[0] * 1000  # a fresh server reads the whole listing once
        store = Store(path, create=False)
        study = store.studies()[-1]
        last = max(e.id for e in store.experiment_briefs(study))
        rng = random.Random(1)
        endpoints = {
            "main view `/`": "/",
            "table partial": "/partials/table",
            "table, sorted by metric, page 3": "/partials/table?sort=metric&order=asc&page=3",
            "table, failures only": "/partials/table?status=failed",
            "stats partial": "/partials/stats",
            "chart JSON": "/api/chart",
            "experiment detail": f"/experiments/{last}",
        }
        table = Table(title=f"dashboard latency in ms, {args.experiments} experiments; "
                            f"unchanged store: {args.requests} requests, after a write: "
                            f"{args.cold_requests} (each right after one more experiment)")
        columns = ("endpoint", "p50", "p95", "max", "after a write p50", "p95", "KB")
        for column in columns:
            table.add_column(column, justify="left" if column == "endpoint" else "right")
        markdown = ["| " + " | ".join(columns) + " |", "|---" * len(columns) + "|"]
        for name, url in endpoints.items():
            fetch(base + url)  # first request: imports and template compilation
            warm, size = [], 0
            for _ in range(args.requests):
                elapsed, size = fetch(base + url)
                warm.append(elapsed * 1000)
            cold = []
            for _ in range(args.cold_requests):
                append(store, study, rng, last, 3.0)
                cold.append(fetch(base + url)[0] * 1000)
            cells = (name, f"{statistics.median(warm):.0f}", f"{percentile(warm, 0.95):.0f}",
                     f"{max(warm):.0f}", f"{statistics.median(cold):.0f}",
                     f"{percentile(cold, 0.95):.0f}", f"{size / 1024:.0f}")
            table.add_row(*cells)
            markdown.append("| " + " | ".join(cells) + " |")
        store.close()
        console.print(table)
        console.print(f"first request to a fresh server (whole listing read): {first:.0f} ms; "
                      f"load average during the run: {os.getloadavg()[0]:.1f} on "
                      f"{os.cpu_count()} cores")
        if args.markdown:
            print("\n".join(markdown))
    finally:
        server.terminate()
        server.wait(10)


if __name__ == "__main__":
    main()
