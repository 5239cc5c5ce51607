"""The fixed, trusted `evaluate` slot: repeated stratified k-fold CV on the development part,
and the sealed holdout for kept combos. Runs inside the sandboxed worker.

A combo's code defines three functions, which this module calls; it never reads a score from
them:

    load_data(frame) -> DataFrame            same rows in the same order (columns may change)
    engineer_features(frame, problem) -> T   unfitted transformer: fit(X, y), transform(X)
    build_model(problem) -> M                unfitted estimator: fit(X, y), predict(X)
                                             (predict_proba(X) for roc_auc and log_loss)

Preprocessing is fitted inside each fold (no leakage). A feature variant's fold outputs are
cached in the worker, keyed by the source of load_data and engineer_features, so combos that
share them compute them once.
"""

from __future__ import annotations

import math
import random
import sys
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn import metrics as skm
from sklearn.model_selection import KFold, StratifiedKFold
from sklearn.preprocessing import LabelEncoder

SLOT_FUNCTIONS = ("load_data", "engineer_features", "build_model")
CACHE_BYTES = 1 << 30  # the worker runs under an 8 GiB address-space limit


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


@dataclass
class Dataset:
    X: pd.DataFrame
    y: np.ndarray
    kind: str
    metric: str
    classes: list[Any] = field(default_factory=list)

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, target: str, kind: str, metric: str,
                   encoder: LabelEncoder | None = None) -> Dataset:
        X = frame.drop(columns=[target]).reset_index(drop=True)
        raw = frame[target]
        if kind == "classification":
            encoder = encoder or LabelEncoder().fit(raw.astype(str))
            index = {c: i for i, c in enumerate(encoder.classes_)}
            y = np.array([index.get(v, -1) for v in raw.astype(str)], dtype=np.int64)
            return cls(X, y, kind, metric, list(encoder.classes_))
        return cls(X, raw.to_numpy(dtype=float), kind, metric)

    def encoder(self) -> LabelEncoder:
        enc = LabelEncoder()
        enc.classes_ = np.array(self.classes, dtype=object)
        return enc


class FoldCache:
    """Least-recently-used fold outputs of feature variants, bounded in bytes."""

    def __init__(self, max_bytes: int = CACHE_BYTES) -> None:
        self.max_bytes = max_bytes
        self.data: OrderedDict[tuple[Any, ...], tuple[Any, int]] = OrderedDict()
        self.size = 0
        self.hits = self.misses = 0

    def get(self, key: tuple[Any, ...]) -> Any:
        if key in self.data:
            self.hits += 1
            self.data.move_to_end(key)
            return self.data[key][0]
        self.misses += 1
        return None

    def put(self, key: tuple[Any, ...], value: Any) -> None:
        size = _nbytes(value)
        if size > self.max_bytes:
            return
        self.data[key] = (value, size)
        self.size += size
        while self.size > self.max_bytes:
            _, (_, dropped) = self.data.popitem(last=False)
            self.size -= dropped


def _nbytes(value: Any) -> int:
    if isinstance(value, list | tuple):
        return sum(_nbytes(v) for v in value)
    if isinstance(value, pd.DataFrame):
        return int(value.memory_usage(deep=True).sum())
    return int(getattr(value, "nbytes", 0) or getattr(getattr(value, "data", None), "nbytes", 0))


def _call(slot: str, fn: Any, *args: Any) -> Any:
    try:
        return fn(*args)
    except (KeyboardInterrupt, MemoryError):
        raise
    except Exception as exc:
        raise SlotFailure(slot, f"{slot}: {type(exc).__name__}: {exc}") from exc


def _loaded(slots: dict[str, Any], X: pd.DataFrame) -> pd.DataFrame:
    out = _call("load_data", slots["load_data"], X.copy())
    if not isinstance(out, pd.DataFrame) or len(out) != len(X):
        raise SlotFailure("load_data", f"load_data must return a DataFrame of {len(X)} rows, "
                                       f"got {type(out).__name__} of {len(out)} rows"
                          if hasattr(out, "__len__") else "load_data returned no table")
    return out.reset_index(drop=True)


def _features(slots: dict[str, Any], problem: Problem, X_train: pd.DataFrame, y_train: Any,
              others: list[pd.DataFrame]) -> list[Any]:
    transformer = _call("engineer_features", slots["engineer_features"], X_train, problem)
    fitted = _call("engineer_features", transformer.fit, X_train, y_train)
    outputs = [_call("engineer_features", fitted.transform, X_train)]
    outputs += [_call("engineer_features", fitted.transform, X) for X in others]
    for out in outputs:
        if getattr(out, "ndim", 2) != 2:
            raise SlotFailure("engineer_features", "engineer_features must produce a 2-D matrix")
    return outputs


def score(metric: str, model: Any, X: Any, y: np.ndarray, n_classes: int) -> float:
    if metric in ("roc_auc", "log_loss"):
        proba = _call("build_model", model.predict_proba, X)
        proba = np.asarray(proba, dtype=float)
        if metric == "log_loss":
            return float(skm.log_loss(y, proba, labels=list(range(n_classes))))
        if n_classes == 2:
            return float(skm.roc_auc_score(y, proba[:, 1]))
        return float(skm.roc_auc_score(y, proba, multi_class="ovr", labels=list(range(n_classes))))
    pred = np.asarray(_call("build_model", model.predict, X)).reshape(-1)
    if len(pred) != len(y):
        raise SlotFailure("build_model", f"predict returned {len(pred)} values for {len(y)} rows")
    if metric == "accuracy":
        return float(skm.accuracy_score(y, pred.astype(y.dtype)))
    if metric == "balanced_accuracy":
        return float(skm.balanced_accuracy_score(y, pred.astype(y.dtype)))
    if metric == "f1_macro":
        return float(skm.f1_score(y, pred.astype(y.dtype), average="macro"))
    pred = pred.astype(float)
    if metric == "rmse":
        return float(math.sqrt(skm.mean_squared_error(y, pred)))
    if metric == "mae":
        return float(skm.mean_absolute_error(y, pred))
    if metric == "r2":
        return float(skm.r2_score(y, pred))
    raise ValueError(f"unknown metric {metric!r}")


def seed_everything(seed: int) -> None:
    """Seeds are the harness' job (the validator forbids seeding in candidate code)."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    if "torch" in sys.modules:
        sys.modules["torch"].manual_seed(seed)
    if "keras" in sys.modules:
        sys.modules["keras"].utils.set_random_seed(seed)


def _fit_score(slots: dict[str, Any], problem: Problem, Xtr: Any, ytr: np.ndarray, Xte: Any,
               yte: np.ndarray) -> float:
    seed_everything(problem.seed)
    model = _call("build_model", slots["build_model"], problem)
    _call("build_model", model.fit, Xtr, ytr)
    return score(problem.metric, model, Xte, yte, problem.n_classes)


def cross_validate(slots: dict[str, Any], data: Dataset, seeds: list[int], folds: int,
                   threads: int, cache: FoldCache, cache_key: tuple[str, str]
                   ) -> dict[str, Any]:
    """Per seed: one repeat of k folds. Returns per-repeat means and every fold's score."""
    started = time.perf_counter()
    loaded_key = ("load", cache_key[0])
    X = cache.get(loaded_key)
    if X is None:
        X = _loaded(slots, data.X)
        cache.put(loaded_key, X)
    repeats, fold_scores = [], []
    for seed in seeds:
        problem = Problem(data.kind, len(data.classes), seed, threads, data.metric)
        splitter = (StratifiedKFold(folds, shuffle=True, random_state=seed)
                    if data.kind == "classification" else KFold(folds, shuffle=True,
                                                                random_state=seed))
        scores = []
        for i, (train, test) in enumerate(splitter.split(X, data.y)):
            key = ("features", *cache_key, seed, i)
            pair = cache.get(key)
            if pair is None:
                pair = _features(slots, problem, X.iloc[train], data.y[train], [X.iloc[test]])
                cache.put(key, pair)
            scores.append(_fit_score(slots, problem, pair[0], data.y[train], pair[1],
                                     data.y[test]))
        repeats.append(float(np.mean(scores)))
        fold_scores += scores
    return {"repeats": repeats, "folds": fold_scores, "seeds": seeds,
            "seconds": time.perf_counter() - started}


def holdout(slots: dict[str, Any], dev: Dataset, test: Dataset, seed: int,
            threads: int) -> float:
    """Fit on the whole development part, score once on the sealed holdout."""
    problem = Problem(dev.kind, len(dev.classes), seed, threads, dev.metric)
    # load_data is a schema step over every row (never the target), as in CV, where it sees
    # the whole development part at once: one call, so both parts get the same columns.
    loaded = _loaded(slots, pd.concat([dev.X, test.X], ignore_index=True))
    X_dev, X_test = loaded.iloc[:len(dev.X)], loaded.iloc[len(dev.X):]
    Xtr, Xte = _features(slots, problem, X_dev, dev.y, [X_test])
    return _fit_score(slots, problem, Xtr, dev.y, Xte, test.y)
