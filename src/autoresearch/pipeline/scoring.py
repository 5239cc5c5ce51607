"""The metric, computed in the parent from a fold's predictions and the labels it alone holds.

Slot code never sees the labels of the rows it predicts and never reports a score: a worker
returns predictions (probabilities for roc_auc and log_loss), and this module scores them.
"""

from __future__ import annotations

import math

import numpy as np

PROBA_METRICS = ("roc_auc", "log_loss")


class BadPredictions(ValueError):
    """The predictions do not fit the rows or the metric: the candidate's fault."""


def score(metric: str, y: np.ndarray, predicted: np.ndarray, n_classes: int) -> float:
    # scikit-learn is imported here, and not for accuracy (the default): the parent of a run
    # on a table prepared before then never imports it (a second of start-up on 2 cores).
    if metric in PROBA_METRICS:
        from sklearn import metrics as skm

        if predicted.ndim != 2 or predicted.shape != (len(y), n_classes):
            raise BadPredictions(f"predict_proba gave shape {predicted.shape}, expected "
                                 f"({len(y)}, {n_classes})")
        if not np.all(np.isfinite(predicted)):
            raise BadPredictions("predict_proba gave non-finite probabilities")
        if metric == "log_loss":
            return float(skm.log_loss(y, predicted, labels=list(range(n_classes))))
        if n_classes == 2:
            return float(skm.roc_auc_score(y, predicted[:, 1]))
        return float(skm.roc_auc_score(y, predicted, multi_class="ovr",
                                       labels=list(range(n_classes))))
    pred = predicted.reshape(-1)
    if len(pred) != len(y):
        raise BadPredictions(f"predict returned {len(pred)} values for {len(y)} rows")
    if metric == "accuracy":
        return float(np.mean(pred.astype(np.int64) == y))
    from sklearn import metrics as skm

    if metric in ("balanced_accuracy", "f1_macro"):
        pred = pred.astype(np.int64)
        if metric == "balanced_accuracy":
            return float(skm.balanced_accuracy_score(y, pred))
        return float(skm.f1_score(y, pred, average="macro", labels=list(range(n_classes))))
    if not np.all(np.isfinite(pred)):
        raise BadPredictions("predict returned non-finite values")
    if metric == "rmse":
        return float(math.sqrt(skm.mean_squared_error(y, pred)))
    if metric == "mae":
        return float(skm.mean_absolute_error(y, pred))
    if metric == "r2":
        return float(skm.r2_score(y, pred))
    raise ValueError(f"unknown metric {metric!r}")
