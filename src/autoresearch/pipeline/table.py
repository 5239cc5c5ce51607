"""A table made ready for the search: checked, split into a development part and a sealed
holdout, written once to the cache with a hash of the data and of the evaluation protocol."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from autoresearch.errors import UsageError
from autoresearch.metric import Direction, Metric
from autoresearch.pipeline.datasets import Source, packaged_file
from autoresearch.pipeline.splits import fold_of, holdout

CLASSIFICATION_METRICS = {"accuracy": Direction.MAX, "balanced_accuracy": Direction.MAX,
                          "roc_auc": Direction.MAX, "f1_macro": Direction.MAX,
                          "log_loss": Direction.MIN}
REGRESSION_METRICS = {"rmse": Direction.MIN, "mae": Direction.MIN, "r2": Direction.MAX}
MAX_CLASSES_FOR_INTEGERS = 20
HOLDOUT_FRACTION = 0.2
HOLDOUT_SEED = 0
DEFAULT_FOLDS = 5
PREPARED = "tabular"  # under the cache folder: one folder per prepared table
DEV_FILE, HOLDOUT_FILE, META_FILE = "dev.pkl", "test.pkl", "meta.json"  # test* is sealed
FOLDS_FILE = "folds.npz"  # each seed's fold of every development row


@dataclass(frozen=True)
class Table:
    """A prepared table on disk. `content_hash` covers the rows and the protocol."""

    name: str
    directory: Path
    target: str
    kind: str  # classification or regression
    metric: Metric
    seeds: tuple[int, ...]  # one CV repeat per seed
    folds: int
    content_hash: str
    origin: str
    rows: int
    notes: tuple[str, ...] = ()

    @property
    def task_name(self) -> str:
        return f"tabular:{self.name}"


@dataclass(frozen=True)
class Checked:
    """A source fit for cross-validation with a holdout: cleaned, its kind and metric chosen.
    Bad input is refused before a run opens its store or starts a worker."""

    source: Source
    frame: pd.DataFrame
    kind: str
    metric: Metric
    notes: tuple[str, ...]

    def prepare(self, cache_dir: Path, seeds: tuple[int, ...],
                folds: int = DEFAULT_FOLDS) -> Table:
        """The dev/holdout split and each seed's folds (scikit-learn's, see splits.py),
        written once under `cache_dir`; a later run on the same rows and protocol reads them
        back."""
        source, frame, kind = self.source, self.frame, self.kind
        digest = hashlib.sha256()
        digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
        digest.update(json.dumps({"columns": [str(c) for c in frame.columns],
                                  "target": source.target, "kind": kind,
                                  "metric": self.metric.name, "seeds": list(seeds),
                                  "folds": folds, "holdout": [HOLDOUT_FRACTION, HOLDOUT_SEED]}
                                 ).encode())
        content_hash = digest.hexdigest()[:16]
        directory = cache_dir / PREPARED / f"{_safe(source.name)}-{content_hash}"
        split = None
        if (directory / META_FILE).exists():
            folds = int(json.loads((directory / META_FILE).read_text())["folds"])
        else:
            train, test = holdout(frame[source.target].to_numpy(),
                                  max(1, round(len(frame) * HOLDOUT_FRACTION)), HOLDOUT_SEED,
                                  stratify=kind == "classification")
            split = frame.iloc[train], frame.iloc[test]
            if kind == "classification":  # as many folds as the smallest class allows
                folds = max(2, min(folds, int(split[0][source.target].value_counts().min())))
        table = Table(name=source.name, directory=directory, target=source.target, kind=kind,
                      metric=self.metric, seeds=seeds, folds=folds, content_hash=content_hash,
                      origin=source.origin, rows=len(frame), notes=self.notes)
        if split is not None:
            _write(table, *split)
        elif not (directory / FOLDS_FILE).exists():  # prepared by a version without it
            _write_folds(table, pd.read_pickle(directory / DEV_FILE))
        return table


def check(source: Source, metric: str | None = None) -> Checked:
    frame, notes = _clean(source)
    kind = _kind(frame[source.target])
    chosen = _metric(kind, metric, frame[source.target].nunique())
    y = frame[source.target]
    min_class = int(y.value_counts().min()) if kind == "classification" else len(y)
    if len(frame) < 10 or (kind == "classification" and min_class < 3):
        raise UsageError(f"{source.name}: {len(frame)} usable rows"
                         + (f", smallest class {min_class}" if kind == "classification" else "")
                         + " is too few to cross-validate and keep a holdout; give at least 10 "
                           "rows and 3 per class")
    return Checked(source, frame, kind, chosen, tuple(notes))


def prepare(source: Source, cache_dir: Path, seeds: tuple[int, ...],
            folds: int = DEFAULT_FOLDS, metric: str | None = None) -> Table:
    return check(source, metric).prepare(cache_dir, seeds, folds)


def label_places(source: Source, cache_dir: Path, given: Path | None) -> tuple[Path, ...]:
    """Every copy of the labels a table worker must not read: the prepared tables, the file
    the user gave, the dataset's packaged file and the download cache. Workers may start
    before the table is prepared, so the folder of prepared tables is made now: a folder masked
    when a worker starts stays masked, one made later would not be."""
    prepared = cache_dir / PREPARED
    prepared.mkdir(parents=True, exist_ok=True)
    places = [prepared, cache_dir / "openml"]
    if given is not None:
        places.append(given.resolve())
    origin = Path(source.origin.split(":", 1)[-1])
    if origin.is_absolute():
        places.append(origin)
    packaged = packaged_file(source.origin)
    if packaged is not None:
        places.append(packaged)
    return tuple(p for p in places if p.exists())


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)[:60] or "table"


def _clean(source: Source) -> tuple[pd.DataFrame, list[str]]:
    frame, target, notes = source.frame.copy(), source.target, []
    frame.columns = [str(c).strip() for c in frame.columns]
    if target not in frame.columns:
        names = ", ".join(list(frame.columns)[:12])
        raise UsageError(f"target column {target!r} is not in {source.name} (columns: {names}); "
                         "pass --target with one of them")
    if len(frame) < 2:
        raise UsageError(f"{source.name} has {len(frame)} data row(s); a tabular run needs a "
                         "table with many rows")
    missing = frame[target].isna()
    if missing.all():
        raise UsageError(f"target column {target!r} is empty in every row")
    if missing.any():
        notes.append(f"dropped {int(missing.sum())} rows with no {target}")
        frame = frame[~missing].reset_index(drop=True)
    empty = [c for c in frame.columns if c != target and frame[c].isna().all()]
    if empty:
        notes.append(f"dropped all-empty columns: {', '.join(empty[:10])}")
        frame = frame.drop(columns=empty)
    for column in frame.columns:
        values = frame[column]
        # Object and category columns may hold values of several types; a text dtype cannot.
        if values.dtype == object or str(values.dtype) == "category":
            kinds = {type(v).__name__ for v in values.dropna()}
            if len(kinds) > 1:
                notes.append(f"column {column!r} mixes {'/'.join(sorted(kinds))}: read as text")
        if values.dtype == object or str(values.dtype) in ("string", "str", "category"):
            frame[column] = values.where(values.isna(), values.astype(str)).astype(object)
    if len(frame.columns) < 2:
        raise UsageError(f"{source.name} has no feature column besides {target!r}")
    if frame[target].nunique() < 2:
        raise UsageError(f"target column {target!r} has a single value "
                         f"({frame[target].iloc[0]!r}); nothing to learn")
    return frame, notes


def _kind(y: pd.Series) -> str:
    if not pd.api.types.is_numeric_dtype(y) or pd.api.types.is_bool_dtype(y):
        return "classification"
    values = y.to_numpy(dtype=float)
    integral = bool(np.all(np.mod(values, 1) == 0))
    return "classification" if integral and y.nunique() <= MAX_CLASSES_FOR_INTEGERS \
        else "regression"


def _metric(kind: str, name: str | None, classes: int) -> Metric:
    table = CLASSIFICATION_METRICS if kind == "classification" else REGRESSION_METRICS
    name = name or ("accuracy" if kind == "classification" else "rmse")
    if name not in table:
        raise UsageError(f"--metric {name!r} does not fit a {kind} target; use one of "
                         f"{', '.join(table)}")
    return Metric(name, table[name])


def _write_folds(table: Table, dev: pd.DataFrame) -> None:
    y = dev[table.target].astype(str) if table.kind == "classification" else dev[table.target]
    tmp = table.directory / f".{FOLDS_FILE}.tmp.npz"  # np.savez adds .npz to other names
    np.savez(tmp, **{str(seed): fold_of(table.kind, table.folds, y.to_numpy(), seed)
                     for seed in table.seeds})
    os.replace(tmp, table.directory / FOLDS_FILE)


def _write(table: Table, dev: pd.DataFrame, holdout: pd.DataFrame) -> None:
    table.directory.mkdir(parents=True, exist_ok=True)
    dev = dev.reset_index(drop=True)
    dev.to_pickle(table.directory / DEV_FILE)
    holdout.reset_index(drop=True).to_pickle(table.directory / HOLDOUT_FILE)
    _write_folds(table, dev)
    meta = {"name": table.name, "target": table.target, "kind": table.kind,
            "metric": table.metric.name, "direction": table.metric.direction.value,
            "seeds": list(table.seeds), "folds": table.folds,
            "content_hash": table.content_hash, "origin": table.origin, "rows": table.rows}
    tmp = table.directory / f".{META_FILE}.tmp"
    tmp.write_text(json.dumps(meta, indent=2))
    os.replace(tmp, table.directory / META_FILE)  # last, so a half-written cache is not trusted


@dataclass(frozen=True)
class Labelled:
    """A prepared table in the parent's memory: features apart from labels, so that only the
    features (and the training labels of one fold at a time) ever reach slot code."""

    X_dev: pd.DataFrame
    y_dev: np.ndarray  # class indices (classification) or floats
    X_holdout: pd.DataFrame
    y_holdout: np.ndarray
    classes: tuple[str, ...]  # class labels in index order; () for regression
    kind: str
    metric: Metric
    folds: int
    # Each seed's fold of every development row, as prepared with the table (fold_of).
    folds_by_seed: dict[int, np.ndarray] = field(default_factory=dict)

    @classmethod
    def load(cls, table: Table) -> Labelled:
        dev = pd.read_pickle(table.directory / DEV_FILE)
        holdout = pd.read_pickle(table.directory / HOLDOUT_FILE)
        classes: tuple[str, ...] = ()
        if table.kind == "classification":
            classes = tuple(sorted(set(dev[table.target].astype(str))))
            index = {c: i for i, c in enumerate(classes)}
            y_dev = np.array([index[v] for v in dev[table.target].astype(str)], dtype=np.int64)
            # A holdout class never seen in development scores as a sure miss.
            y_hold = np.array([index.get(v, -1) for v in holdout[table.target].astype(str)],
                              dtype=np.int64)
        else:
            y_dev = dev[table.target].to_numpy(dtype=float)
            y_hold = holdout[table.target].to_numpy(dtype=float)
        prepared: dict[int, np.ndarray] = {}
        if (table.directory / FOLDS_FILE).exists():
            with np.load(table.directory / FOLDS_FILE) as stored:
                prepared = {int(seed): stored[seed] for seed in stored.files}
        return cls(dev.drop(columns=[table.target]), y_dev,
                   holdout.drop(columns=[table.target]), y_hold, classes, table.kind,
                   table.metric, table.folds, prepared)

    def splits(self, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
        """The (train, validation) row indices of one CV repeat."""
        assignment = self.folds_by_seed.get(seed)
        if assignment is None:
            assignment = fold_of(self.kind, self.folds, self.y_dev, seed)
        return [(np.flatnonzero(assignment != k), np.flatnonzero(assignment == k))
                for k in range(self.folds)]


def label_values(table: Table) -> list[Any]:
    """The target's values in the harness' class order (class indices sort the labels as
    text, see Labelled); [] for regression. Adapters of user code give these back to it."""
    if table.kind != "classification":
        return []
    target = pd.read_pickle(table.directory / DEV_FILE)[table.target]
    by_text = {str(v): v.item() if hasattr(v, "item") else v for v in target.unique()}
    return [by_text[text] for text in sorted(by_text)]
