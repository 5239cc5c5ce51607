"""The numpy splits are scikit-learn's: the same holdout and folds for the same seed, so a
table prepared without scikit-learn splits as one prepared with it (and as a user's own
`train_test_split` / `StratifiedKFold` would)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import KFold, StratifiedKFold, train_test_split

from autoresearch.pipeline import splits
from autoresearch.pipeline.table import Labelled, prepare
from tests.pipeline.conftest import mixed_frame


def _targets() -> list[tuple[str, np.ndarray]]:
    rng = np.random.default_rng(1)
    cases = [("bool", rng.random(90) > 0.3)]
    for n, k in ((10, 2), (11, 3), (57, 4), (200, 7), (333, 2), (1000, 12)):
        y = rng.integers(0, k, n)
        y[:k] = np.arange(k)
        skewed = rng.choice(k, n, p=np.r_[0.7, np.full(k - 1, 0.3 / (k - 1))])
        skewed[:2 * k] = np.repeat(np.arange(k), 2)
        cases += [(f"ints {n}x{k}", y), (f"text {n}x{k}", np.array([f"c{v}" for v in y],
                                                                     dtype=object)),
                  (f"skewed {n}x{k}", skewed)]
    return cases


@pytest.mark.parametrize(("name", "y"), _targets(), ids=[n for n, _ in _targets()])
def test_holdout_and_folds_are_scikit_learns(name: str, y: np.ndarray) -> None:
    n = len(y)
    for seed in (0, 1, 42, 137, 2**31 - 5):
        for test in (max(1, round(n * 0.2)), max(2, n // 3)):
            for stratify in (True, False):
                try:
                    want = train_test_split(np.arange(n), test_size=test, random_state=seed,
                                            stratify=y if stratify else None)
                except ValueError:  # too few rows of a class for this size
                    continue
                got = splits.holdout(y, test, seed, stratify)
                assert all(np.array_equal(w, g) for w, g in zip(want, got, strict=True)), \
                    (seed, test, stratify)
        for folds in (2, 3, 5, 10):
            for kind, splitter in (("classification", StratifiedKFold), ("regression", KFold)):
                want = np.empty(n, dtype=np.int32)
                try:
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")  # a class smaller than the folds
                        for index, (_, valid) in enumerate(splitter(
                                folds, shuffle=True, random_state=seed).split(np.zeros(n), y)):
                            want[valid] = index
                except ValueError:
                    continue
                assert np.array_equal(splits.fold_of(kind, folds, y, seed), want), \
                    (seed, folds, kind)


def test_a_prepared_table_holds_the_rows_train_test_split_gives(tmp_path) -> None:
    from autoresearch.pipeline import datasets

    frame = mixed_frame(rows=150)
    table = prepare(datasets.Source("c", frame, "label", "x"), tmp_path, (3,))
    data = Labelled.load(table)
    cleaned = frame.drop(columns=["empty"])
    dev, test = train_test_split(cleaned, test_size=30, random_state=0,
                                 stratify=cleaned["label"])
    pd.testing.assert_frame_equal(data.X_dev, dev.drop(columns=["label"]).reset_index(drop=True),
                                  check_dtype=False)
    pd.testing.assert_frame_equal(data.X_holdout,
                                  test.drop(columns=["label"]).reset_index(drop=True),
                                  check_dtype=False)
