"""One fit of a combo, inside a sandboxed fold process: the slot functions are called here and
nowhere else. A combo's code defines three functions, which this module calls:

    load_data(frame) -> DataFrame            same rows in the same order (columns may change)
    engineer_features(frame, problem) -> T   unfitted transformer: fit(X, y), transform(X)
    build_model(problem) -> M                unfitted estimator: fit(X, y), predict(X)
                                             (predict_proba(X) for roc_auc and log_loss)

The process gets the features of every row, the labels of its training rows only, and hands
back predictions for the rows to predict; the parent scores them (scoring.py). Preprocessing is
fitted on the training rows only (no leakage).
"""

from __future__ import annotations

import random
import sys
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

SLOT_FUNCTIONS = ("load_data", "engineer_features", "build_model")


@dataclass(frozen=True)
class Problem:
    """What a slot may know about the task (handed to engineer_features and build_model)."""

    kind: str  # classification or regression
    n_classes: int
    seed: int
    threads: int
    metric: str

    @property
    def classification(self) -> bool:
        return self.kind == "classification"


class SlotFailure(Exception):
    """A slot function raised or broke its contract; `slot` is blamed in the store."""

    def __init__(self, slot: str, message: str) -> None:
        super().__init__(message)
        self.slot = slot


def slots_of(code: str) -> dict[str, Any]:
    namespace: dict[str, Any] = {"__name__": "combo"}
    exec(compile(code, "combo.py", "exec"), namespace)
    missing = [name for name in SLOT_FUNCTIONS if not callable(namespace.get(name))]
    if missing:
        raise SlotFailure(missing[0], f"the combo defines no {', '.join(missing)}()")
    return {name: namespace[name] for name in SLOT_FUNCTIONS}


def _call(slot: str, fn: Any, *args: Any) -> Any:
    try:
        return fn(*args)
    except (KeyboardInterrupt, MemoryError):
        raise
    except Exception as exc:
        raise SlotFailure(slot, f"{slot}: {type(exc).__name__}: {exc}") from exc


def seed_everything(seed: int) -> None:
    """Seeds are the harness' job (the validator forbids seeding in candidate code)."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    if "torch" in sys.modules:
        sys.modules["torch"].manual_seed(seed)
    if "keras" in sys.modules:
        sys.modules["keras"].utils.set_random_seed(seed)


def fit_predict(slots: dict[str, Any], problem: Problem, X: pd.DataFrame, train: np.ndarray,
                y_train: np.ndarray, rows: np.ndarray, proba: bool) -> np.ndarray:
    """Fit on the `train` rows of X, predict the `rows` rows (whose labels are not here)."""
    seed_everything(problem.seed)
    # load_data is a schema step over every row (never the target): one call, so the rows
    # fitted and the rows predicted get the same columns.
    loaded = _call("load_data", slots["load_data"], X.copy())
    if not isinstance(loaded, pd.DataFrame) or len(loaded) != len(X):
        raise SlotFailure("load_data", f"load_data must return a DataFrame of {len(X)} rows, "
                                       f"got {type(loaded).__name__}")
    loaded = loaded.reset_index(drop=True)
    X_train, X_rows = loaded.iloc[train], loaded.iloc[rows]
    transformer = _call("engineer_features", slots["engineer_features"], X_train, problem)
    fitted = _call("engineer_features", transformer.fit, X_train, y_train)
    F_train = _call("engineer_features", fitted.transform, X_train)
    F_rows = _call("engineer_features", fitted.transform, X_rows)
    for out in (F_train, F_rows):
        if getattr(out, "ndim", 2) != 2:
            raise SlotFailure("engineer_features", "engineer_features must produce a 2-D matrix")
    model = _call("build_model", slots["build_model"], problem)
    _call("build_model", model.fit, F_train, y_train)
    name = "predict_proba" if proba else "predict"
    method = getattr(model, name, None)
    if not callable(method):
        raise SlotFailure("build_model", f"the model has no {name}()")
    try:
        return np.asarray(_call("build_model", method, F_rows), dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise SlotFailure("build_model", f"predictions are not numbers: {exc}") from exc
