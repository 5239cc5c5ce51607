"""scikit-learn's shuffled splits computed with numpy alone: the sealed holdout of
`train_test_split(..., stratify=y)` and the folds of `StratifiedKFold` / `KFold` with
`shuffle=True`, the same rows for the same seed (tests compare them with scikit-learn's over
many class shapes). A table is prepared without importing scikit-learn, which costs 1-1.4 s of
CPU at the start of every run on a new table, while its workers import it too.
"""

from __future__ import annotations

import numpy as np


def holdout(y: np.ndarray, test: int, seed: int, stratify: bool) -> tuple[np.ndarray, np.ndarray]:
    """(train, test) row indices: `train_test_split(rows, test_size=test, random_state=seed,
    stratify=y if stratify else None)`."""
    n = len(y)
    rng = np.random.RandomState(seed)
    if not stratify:  # ShuffleSplit
        permutation = rng.permutation(n)
        return permutation[test:], permutation[:test]
    # StratifiedShuffleSplit: each class's share of both parts rounded as scikit-learn does
    _, classes, counts = np.unique(np.asarray(y), return_inverse=True, return_counts=True)
    by_class = np.split(np.argsort(classes, kind="stable"), np.cumsum(counts)[:-1])
    train_counts = _approximate_mode(counts, n - test, rng)
    test_counts = _approximate_mode(counts - train_counts, test, rng)
    train: list[int] = []
    tested: list[int] = []
    for rows, n_train, n_test in zip(by_class, train_counts, test_counts, strict=True):
        shuffled = rows.take(rng.permutation(len(rows)), mode="clip")
        train.extend(shuffled[:n_train])
        tested.extend(shuffled[n_train:n_train + n_test])
    return rng.permutation(train), rng.permutation(tested)


def fold_of(kind: str, folds: int, y: np.ndarray, seed: int) -> np.ndarray:
    """The validation fold of each row in the CV repeat of `seed`: `StratifiedKFold(folds,
    shuffle=True, random_state=seed)` for classification (the class encoding does not change
    it: classes are numbered by first appearance), else `KFold`."""
    rng = np.random.RandomState(seed)
    assignment = np.empty(len(y), dtype=np.int32)
    if kind != "classification":
        order = np.arange(len(y))
        rng.shuffle(order)
        sizes = np.full(folds, len(y) // folds)
        sizes[:len(y) % folds] += 1
        assignment[order] = np.arange(folds).repeat(sizes)  # consecutive runs of the order
        return assignment
    _, first, inverse = np.unique(np.asarray(y), return_index=True, return_inverse=True)
    _, by_appearance = np.unique(first, return_inverse=True)
    encoded = by_appearance[inverse]
    in_order = np.sort(encoded)
    allocation = np.asarray([np.bincount(in_order[i::folds], minlength=len(first))
                             for i in range(folds)])
    for k in range(len(first)):
        of_class = np.arange(folds).repeat(allocation[:, k])
        rng.shuffle(of_class)
        assignment[encoded == k] = of_class
    return assignment


def _approximate_mode(counts: np.ndarray, draws: int, rng: np.random.RandomState) -> np.ndarray:
    """How many rows of each class `draws` rows hold: shares floored, the rest given to the
    largest remainders, ties broken at random (scikit-learn's `_approximate_mode`)."""
    continuous = counts / counts.sum() * draws
    floored = np.floor(continuous)
    missing = int(draws - floored.sum())
    if missing > 0:
        remainder = continuous - floored
        for value in np.sort(np.unique(remainder))[::-1]:
            (tied,) = np.where(remainder == value)
            now = min(len(tied), missing)
            floored[rng.choice(tied, size=now, replace=False)] += 1
            missing -= now
            if missing == 0:
                break
    return floored.astype(int)
