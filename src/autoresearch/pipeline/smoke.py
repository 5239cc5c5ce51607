"""Fail fast: the user's own pipeline, run once through the harness' fold code on a small slice
of the table before any experiment, so a file that does not fit the contract stops the run with
the signature found, the one expected and a rewrite (not a study of crashed combos).

The check runs in a child process (`python -m autoresearch.pipeline.smoke DIR`) on the user's
unmodified code, which is trusted like a project's own files; the research itself runs every
combo, this one included, in the sandboxed table workers.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from autoresearch.pipeline.decompose import ContractMismatch
from autoresearch.pipeline.scoring import PROBA_METRICS
from autoresearch.pipeline.table import Labelled

SLICE_ROWS = 200
TIMEOUT = 120.0


def check(code: str, labelled: Labelled, path: Path, found: dict[str, str]) -> None:
    """Raise ContractMismatch when the combo `code` fails on a slice; `found` maps a slot to
    the user's signature that fills it."""
    rows = min(SLICE_ROWS, len(labelled.y_dev))
    with tempfile.TemporaryDirectory(prefix="autoresearch-smoke-") as tmp:
        folder = Path(tmp)
        (folder / "combo.py").write_text(code, encoding="utf-8")
        labelled.X_dev.iloc[:rows].reset_index(drop=True).to_pickle(folder / "X.pkl")
        np.save(folder / "y.npy", labelled.y_dev[:rows])
        (folder / "meta.json").write_text(json.dumps({
            "kind": labelled.kind, "n_classes": len(labelled.classes),
            "metric": labelled.metric.name}))
        try:
            done = subprocess.run([sys.executable, "-m", "autoresearch.pipeline.smoke", tmp],
                                  capture_output=True, text=True, timeout=TIMEOUT,
                                  cwd=path.parent, check=False)
        except subprocess.TimeoutExpired:
            raise ContractMismatch(path, "engineer_features", ", ".join(found.values()),
                                   f"one fit on {rows} rows took over {TIMEOUT:g} s") from None
    lines = done.stdout.strip().splitlines()
    answer = json.loads(lines[-1]) if lines and lines[-1].startswith("{") else {
        "slot": None, "reason": (done.stderr.strip().splitlines() or ["no answer"])[-1]}
    if answer.get("ok"):
        return
    slot = answer.get("slot") or next(iter(found), "engineer_features")
    raise ContractMismatch(path, slot, found.get(slot, "(none)"),
                           f"your pipeline, run once through the harness on {rows} rows, "
                           f"failed: {answer['reason']}")


def _main(folder: Path) -> dict[str, object]:
    import pandas as pd

    from autoresearch.pipeline.fold import Problem, SlotFailure, fit_predict, slots_of

    meta = json.loads((folder / "meta.json").read_text())
    X = pd.read_pickle(folder / "X.pkl")
    y = np.load(folder / "y.npy")
    cut = max(2, int(len(y) * 0.75))
    problem = Problem(meta["kind"], meta["n_classes"], 0, 1, meta["metric"])
    try:
        predicted = fit_predict(slots_of((folder / "combo.py").read_text()), problem, X,
                                np.arange(cut), y[:cut], np.arange(cut, len(y)),
                                meta["metric"] in PROBA_METRICS)
    except SlotFailure as exc:
        return {"slot": exc.slot, "reason": str(exc)}
    if len(predicted) != len(y) - cut:
        return {"slot": "build_model", "reason": f"{len(predicted)} predictions for "
                                                 f"{len(y) - cut} rows"}
    return {"ok": True}


if __name__ == "__main__":
    print(json.dumps(_main(Path(sys.argv[1]))))
