"""Every built-in slot template renders to valid candidate code and trains, per framework."""

from __future__ import annotations

import importlib.util
import math
import warnings

import numpy as np
import pandas as pd
import pytest

from autoresearch.pipeline import datasets
from autoresearch.pipeline.catalog import FRAMEWORKS, Renderer, space_for
from autoresearch.pipeline.fold import Problem, fit_predict, slots_of
from autoresearch.pipeline.scoring import PROBA_METRICS, score
from autoresearch.pipeline.table import Labelled, Table, prepare
from autoresearch.sandbox.validator import validate
from tests.pipeline.conftest import mixed_frame


def _dataset(tmp_path, kind: str, metric: str | None = None) -> tuple[Labelled, Table]:
    frame = mixed_frame(80)
    if kind == "regression":
        frame = frame.assign(label=frame["x1"] * 3 + (frame["colour"] == "red"))
    table = prepare(datasets.Source("t", frame, "label", "x"), tmp_path, (0,), folds=2,
                    metric=metric)
    return Labelled.load(table), table


def cross_validate(code: str, data: Labelled) -> list[float]:
    """Two folds of the combo, fitted in this process (the sandboxing is tested elsewhere)."""
    problem = Problem(data.kind, len(data.classes), 0, 1, data.metric.name)
    proba = data.metric.name in PROBA_METRICS
    return [score(data.metric.name, data.y_dev[valid],
                  fit_predict(slots_of(code), problem, data.X_dev, train, data.y_dev[train],
                              valid, proba), len(data.classes))
            for train, valid in data.splits(0)]


def _cheap(impl) -> dict:
    """Defaults, with the fewest rounds / trees / epochs the template allows (tests are tiny)."""
    rounds = ("epochs", "n_estimators", "iterations", "max_iter")
    return {p.name: int(p.low) if p.name in rounds else p.default for p in impl.params}


@pytest.mark.parametrize("kind,metric", [("classification", None),
                                         ("classification", "roc_auc"),
                                         ("regression", None)])
def test_every_sklearn_implementation_trains(tmp_path, kind: str, metric: str | None) -> None:
    data, table = _dataset(tmp_path, kind, metric)
    space = space_for("sklearn", table.kind)
    renderer = Renderer(space, "sklearn", table.kind, table.metric.name)
    base = space.default_combo()
    combos = [base.replace(i.slot, i.name, _cheap(i), i.family_name)
              for slot in space.slots for i in space.of(slot)]
    for combo in combos:
        code = renderer.render(combo)
        check = validate(code, uses_harness=False)
        assert check.ok, (combo.describe(), check.reason)
        with warnings.catch_warnings():  # no template uses what this scikit-learn deprecates
            warnings.simplefilter("error", FutureWarning)
            assert all(math.isfinite(v) for v in cross_validate(code, data)), combo.describe()


@pytest.mark.parametrize("framework", [f for f in FRAMEWORKS if f != "sklearn"])
def test_framework_templates_train(tmp_path, framework: str, monkeypatch) -> None:
    if importlib.util.find_spec(FRAMEWORKS[framework]) is None:
        pytest.skip(f"{framework} is not installed")
    monkeypatch.setenv("KERAS_BACKEND", "torch")
    for kind in ("classification", "regression"):
        data, table = _dataset(tmp_path / kind, kind)
        space = space_for(framework, table.kind)
        renderer = Renderer(space, framework, table.kind, table.metric.name)
        for impl in space.of("build_model"):
            params = _cheap(impl)
            combo = space.default_combo().replace("build_model", impl.name, params,
                                                  impl.family_name)
            code = renderer.render(combo)
            assert validate(code, uses_harness=False).ok, code
            assert all(math.isfinite(v) for v in cross_validate(code, data)), \
                (framework, impl.name)


def test_holdout_applies_load_data_to_both_parts_at_once(tmp_path) -> None:
    """drop_sparse drops constant columns: a column constant in the holdout only must not give
    the holdout fewer columns than the model was fitted on."""
    data, table = _dataset(tmp_path, "classification")
    space = space_for("sklearn", table.kind)
    renderer = Renderer(space, "sklearn", table.kind, table.metric.name)
    combo = space.default_combo().replace("load_data", "drop_sparse", {"max_missing": 0.5})
    holdout = data.X_holdout.assign(x2=1.0)  # constant in the holdout, varying in development
    X = pd.concat([data.X_dev, holdout], ignore_index=True)
    n = len(data.X_dev)
    problem = Problem(data.kind, len(data.classes), 0, 1, data.metric.name)
    predicted = fit_predict(slots_of(renderer.render(combo)), problem, X, np.arange(n),
                            data.y_dev, np.arange(n, len(X)), False)
    assert 0.0 <= score("accuracy", data.y_holdout, predicted, len(data.classes)) <= 1.0
