"""Tabular engine vs a plain sequential loop, side by side, on the same 3 feature x 6 model space.

    python bench/tabular.py [--dataset kr-vs-kp] [--seeds 0,1,2] [--folds 5] [--workers 1]

Engine: every combo is rendered from the slot templates, validated, run in sandboxed worker
processes (data loaded once per worker, each feature variant computed once per fold and reused
by every model) and recorded in a SQLite store. Plain loop: the same combos, in this process, one
after another, features refitted for every combo and fold (what a hand-written script does).
Both score with the same trusted harness and folds, so their best CV accuracy must agree.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from autoresearch.analysis.combo import Combo
from autoresearch.pipeline import datasets
from autoresearch.pipeline.catalog import Renderer, space_for
from autoresearch.pipeline.harness import Dataset, FoldCache, cross_validate
from autoresearch.pipeline.runs import WorkerOptions
from autoresearch.pipeline.table import prepare
from autoresearch.pipeline.tabular import TabularBackend

FEATURES = ("onehot_standard", "ordinal", "onehot_quantile")
MODELS = ("linear", "hist_gb", "random_forest", "svm", "knn", "gradient_boosting")


def combos(space) -> list[Combo]:
    return [space.combo({"load_data": "as_read", "engineer_features": f, "build_model": m})
            for f in FEATURES for m in MODELS]


def plain_loop(table, space, renderer) -> tuple[float, float]:
    dev = pd.read_pickle(table.directory / "dev.pkl")
    data = Dataset.from_frame(dev, table.target, table.kind, table.metric.name)
    threads = os.cpu_count() or 1
    best = float("-inf")
    started = time.perf_counter()
    for combo in combos(space):
        namespace: dict = {}
        exec(compile(renderer.render(combo), "combo.py", "exec"), namespace)
        # A fresh cache per combo: nothing is shared between combos, as in a plain script.
        result = cross_validate(namespace, data, list(table.seeds), table.folds, threads,
                                FoldCache(), renderer.cache_key(combo))
        best = max(best, sum(result["repeats"]) / len(result["repeats"]))
    return time.perf_counter() - started, best


def engine(table, space, workers: int) -> tuple[float, float, int]:
    backend = TabularBackend(table, "sklearn", WorkerOptions(timeout=600, workers=workers),
                             space)
    started = time.perf_counter()
    outcomes = backend.run_batch(combos(space))
    elapsed = time.perf_counter() - started
    scores = [sum(o.scores) / len(o.scores) for o in outcomes if o.scores]
    hits = max(int((o.extra or {}).get("cache_hits", 0)) for o in outcomes)
    return elapsed, max(scores), hits


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="kr-vs-kp")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args(argv)
    cache = Path(tempfile.mkdtemp(prefix="bench-tabular-"))
    source = datasets.named(args.dataset, cache, offline=True)
    table = prepare(source, cache, tuple(int(s) for s in args.seeds.split(",")), args.folds)
    space = space_for("sklearn", table.kind)
    renderer = Renderer(space, "sklearn", table.kind, table.metric.name)
    n = len(combos(space))
    print(f"{table.task_name}: {table.rows} rows, {len(table.seeds)} x {table.folds}-fold CV, "
          f"{len(FEATURES)} features x {len(MODELS)} models = {n} combos, "
          f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}", flush=True)
    plain_s, plain_best = plain_loop(table, space, renderer)
    engine_s, engine_best, hits = engine(table, space, args.workers)
    print(f"{'':22}{'runs/s':>8}{'wall s':>9}{'best CV ' + table.metric.name:>20}")
    print(f"{'plain sequential loop':22}{n / plain_s:8.3f}{plain_s:9.1f}{plain_best:20.4f}")
    print(f"{'engine (sandboxed)':22}{n / engine_s:8.3f}{engine_s:9.1f}{engine_best:20.4f}"
          f"   ({args.workers} worker(s), {hits} fold-cache hits)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
