"""The tabular executor's warm workers: real sandboxed processes, failures kept to one fold."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from autoresearch.pipeline import datasets
from autoresearch.pipeline.catalog import Renderer, space_for
from autoresearch.pipeline.executor import CVJob, TabularExecutor
from autoresearch.pipeline.table import Labelled, prepare
from autoresearch.records import FailureKind
from tests.pipeline.conftest import mixed_frame


@pytest.fixture()
def mini(tmp_path: Path):
    table = prepare(datasets.Source("mini", mixed_frame(60), "label", "test"), tmp_path, (0,),
                    folds=3)
    space = space_for("sklearn", table.kind)
    code = Renderer(space, "sklearn", table.kind, table.metric.name).render(
        space.default_combo())
    executor = TabularExecutor(Labelled.load(table), workers=1, hidden=(table.directory,))
    yield executor, code
    executor.shutdown()


def _model(code: str, first_line: str) -> str:
    return code.replace("def build_model(problem):", f"def build_model(problem):\n{first_line}")


def test_failures_stay_with_their_fold_and_the_worker_comes_back(mini) -> None:
    executor, code = mini
    raising = executor.submit(CVJob(_model(code, "    raise ValueError('no model today')"), 0,
                                    60)).result()
    assert raising.failure is FailureKind.CRASH and raising.extra["slot"] == "build_model"
    assert "no model today" in raising.reason and "Traceback" in raising.log_tail
    killed = executor.submit(CVJob(_model(code, "    import os\n    os.kill(os.getpid(), 9)"),
                                   0, 60)).result()
    assert killed.failure in (FailureKind.CRASH, FailureKind.OOM)
    started = time.monotonic()
    worker_killed = executor.submit(CVJob(_model(
        code, "    import os\n    os.kill(os.getppid(), 9)"), 0, 60)).result()
    assert worker_killed.failure is FailureKind.CRASH
    # Told at once that the worker is gone (a wait for the fold's exit once took 30 s).
    assert time.monotonic() - started < 15
    slow = executor.submit(CVJob(_model(code, "    while True:\n        pass"), 0, 3)).result()
    assert slow.failure is FailureKind.TIMEOUT
    good = executor.submit(CVJob(code, 0, 60)).result()
    assert good.ok and len(good.extra["folds"]) == 3 and 0.5 < good.metric <= 1.0
    assert "warm-table-worker" in good.sandbox
    holdout = executor.submit(CVJob(code, 0, 60, holdout=True)).result()
    assert holdout.ok and 0.0 <= holdout.metric <= 1.0 and "folds" not in holdout.extra


def test_hopeless_repeats_stop_after_two_folds(mini) -> None:
    executor, code = mini
    executor.bar = lambda: 0.99
    guess = _model(code, "    from sklearn.dummy import DummyClassifier\n"
                         "    return DummyClassifier(strategy='uniform', random_state=0)")
    run = executor.submit(CVJob(guess, 0, 60)).result()
    assert run.ok and len(run.extra["folds"]) == 2 and "stopped after 2 of 3" in \
        run.extra["stopped"]
    executor.bar = lambda: None
    assert len(executor.submit(CVJob(guess, 0, 60)).result().extra["folds"]) == 3


def test_a_promising_combo_has_its_next_repeat_and_holdout_read_ahead(tmp_path) -> None:
    table = prepare(datasets.Source("mini", mixed_frame(60), "label", "test"), tmp_path, (0, 1),
                    folds=3)
    space = space_for("sklearn", table.kind)
    code = Renderer(space, "sklearn", table.kind, table.metric.name).render(
        space.default_combo())
    guess = _model(code, "    from sklearn.dummy import DummyClassifier\n"
                         "    return DummyClassifier(strategy='uniform', random_state=0)")
    plain = TabularExecutor(Labelled.load(table), workers=1, hidden=(table.directory,))
    executor = TabularExecutor(Labelled.load(table), workers=1, hidden=(table.directory,),
                               ahead=(0, 1))
    try:
        # Nothing kept yet (the baseline): every repeat and the holdout will be asked for.
        first = executor.submit(CVJob(code, 0, 60)).result()
        second = executor.submit(CVJob(code, 1, 60)).result()
        holdout = executor.submit(CVJob(code, 0, 60, holdout=True)).result()
        assert "ahead" not in first.extra and second.extra["ahead"] is True
        assert holdout.extra["ahead"] is True
        # The same numbers as when each is asked for in turn.
        assert second.metric == plain.submit(CVJob(code, 1, 60)).result().metric
        assert holdout.metric == plain.submit(CVJob(code, 0, 60, holdout=True)).result().metric
        # A combo behind the best kept score gets nothing read ahead.
        executor.bar = lambda: 0.99
        assert executor.submit(CVJob(guess, 0, 60)).result().extra["stopped"]
        executor.bar = lambda: None
        assert "ahead" not in executor.submit(CVJob(guess, 1, 60)).result().extra
    finally:
        executor.shutdown()
        plain.shutdown()


def test_the_worker_warms_what_scikit_learn_imports_on_first_use() -> None:
    """A fold process is forked from the worker and inherits what the worker imported. The
    modules scikit-learn imports on first use (narwhals' pandas support for every DataFrame it
    checks) are imported by the worker's warm-up: a fold's fit then imports nothing (it was
    40-50 ms a fold)."""
    probe = """
import json, sys
import numpy as np, pandas as pd
from autoresearch.pipeline import worker
for module in worker.PRELOAD:
    __import__(module)
before = set(sys.modules)
worker._warm()
warmed = set(sys.modules) - before
from sklearn.compose import ColumnTransformer, make_column_selector
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler
rng = np.random.default_rng(0)
frame = pd.DataFrame({"x": rng.normal(size=60), "c": rng.choice(["a", "b", "c"], 60)})
y = (frame["x"] > 0).to_numpy().astype(int)
for encode, model in ((OneHotEncoder(), LogisticRegression()),
                      (OrdinalEncoder(), HistGradientBoostingClassifier(max_iter=5))):
    number, other = (make_column_selector(dtype_include="number"),
                     make_column_selector(dtype_exclude="number"))
    columns = ColumnTransformer([("n", StandardScaler(), number), ("c", encode, other)])
    model.fit(columns.fit_transform(frame, y), y).predict(columns.transform(frame))
print(json.dumps({"warmed": sorted(warmed), "fit": sorted(set(sys.modules) - before - warmed)}))
"""
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True, env={**os.environ, "OMP_NUM_THREADS": "1"}).stdout
    imported = json.loads(out)
    assert "narwhals._pandas_like.dataframe" in imported["warmed"]
    assert imported["fit"] == []
