"""Bring your own pipeline: the shapes people write, run from the CLI on sklearn's bundled
datasets. The baseline is the user's own pipeline and matches what their script prints (same
5-fold CV, within noise); a file that fits no contract stops before any experiment."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from autoresearch.pipeline.adapt import adapt
from autoresearch.pipeline.decompose import decompose
from autoresearch.pipeline.fold import Problem, fit_predict, slots_of
from tests.conftest import run_cli

SHAPES = Path(__file__).parent / "user_shapes"
DATASETS = {"cancer": "load_breast_cancer", "wine": "load_wine", "diabetes": "load_diabetes"}
# shape file -> (table, tolerance): our CV runs on the 80% development part with shuffled
# folds, the script's on every row with its own folds, so they agree within a few fold SEs.
CASES = {"functions": ("cancer", 0.04), "pipeline": ("wine", 0.06), "multi": ("diabetes", 4.0),
         "contract": ("wine", 0.06)}


def _folder(tmp_path: Path, shape: str, table: str) -> Path:
    import sklearn.datasets

    frame = getattr(sklearn.datasets, DATASETS[table])(as_frame=True).frame
    frame.round(6).to_csv(tmp_path / f"{table}.csv", index=False)
    shutil.copy(SHAPES / f"{shape}.py", tmp_path / f"{shape}.py")
    return tmp_path / f"{shape}.py"


def _printed(script: Path) -> float:
    done = subprocess.run([sys.executable, script.name], cwd=script.parent, capture_output=True,
                          text=True, timeout=120, check=True)
    return float(done.stdout.strip().splitlines()[-1])


def _number(pattern: str, text: str) -> float:
    found = re.search(pattern, text)
    assert found, text
    return float(found.group(1))


@pytest.mark.parametrize("shape", list(CASES))
def test_each_shape_runs_with_the_users_pipeline_as_baseline(shape: str, tmp_path: Path,
                                                             cli_env) -> None:
    table, tolerance = CASES[shape]
    script = _folder(tmp_path, shape, table)
    printed = _printed(script)
    result = run_cli(["run", str(script), "-n", "4", "--seeds", "0", "--proposer", "offline"],
                     cli_env, cwd=tmp_path)
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    assert f"{script.name} split into slots:" in out and "build_model:" in out
    baseline = _number(r"\bbaseline ([\d.]+)  best", out)  # the summary line
    assert abs(baseline - printed) <= tolerance, (baseline, printed)
    # An improvement kept, or the reason none was found.
    assert re.search(r"kept [1-9]", out) or "no combo beat your pipeline" in out, out
    status = run_cli(["status", "--task", f"tabular:{table}"], cli_env)
    assert "your pipeline, split into slots:" in status.stdout, status.stdout
    assert f"of {script.name}" in status.stdout


@pytest.mark.parametrize(("script", "found", "why"), [
    ("bad_model_args", "build_model(n_estimators, max_depth)", "needs arguments"),
    ("bad_features_dict", "engineer_features(df)", "must return X or (X, y)"),
])
def test_a_pipeline_that_fits_no_contract_stops_before_any_experiment(
        script: str, found: str, why: str, tmp_path: Path, cli_env) -> None:
    path = _folder(tmp_path, script, "wine")
    result = run_cli(["run", str(path), "-n", "3", "--seeds", "0"], cli_env, cwd=tmp_path)
    text = result.stdout + result.stderr
    assert result.returncode == 2, text
    assert f"found:    {found}" in text and "expected: " in text and "rewrite, e.g.:" in text
    assert why in text and "Traceback" not in text
    assert not Path(cli_env["AUTORESEARCH_STORAGE"]).exists()  # no study, no experiment


def test_target_named_nowhere_is_asked_for(tmp_path: Path, cli_env) -> None:
    path = _folder(tmp_path, "contract", "wine")
    path.write_text(path.read_text().replace('TARGET = "target"', 'TARGET = "target"[:]'))
    result = run_cli(["run", str(path), "-n", "1", "--seeds", "0"], cli_env, cwd=tmp_path)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "which column does contract.py predict?" in result.stdout + result.stderr
    assert "--target" in result.stdout + result.stderr


def test_a_crashing_baseline_stops_the_run(tmp_path: Path, cli_env) -> None:
    path = _folder(tmp_path, "functions", "cancer")
    # Fits the contract on the first rows, crashes on later folds (rows past the slice).
    path.write_text(path.read_text().replace(
        '    return X, y\n', '    if len(X) > 250:\n        raise RuntimeError("boom")\n'
                            '    return X, y\n', 1))
    result = run_cli(["run", str(path), "-n", "3", "--seeds", "0", "--proposer", "offline"],
                     cli_env, cwd=tmp_path)
    assert result.returncode == 5, result.stdout + result.stderr
    assert "the baseline failed" in result.stdout + result.stderr
    assert "baseline -" not in result.stdout


def _noise(rows: int, columns: int, informative: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(rows, columns))
    label = (X[:, :informative].sum(axis=1) > 0).astype(int) if informative \
        else rng.integers(0, 2, rows)
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(columns)]).round(4)
    return frame.assign(label=label)


SELECTING = '''
import pandas as pd
from sklearn.feature_selection import SelectKBest, f_classif


def load_data():
    return pd.read_csv("noise.csv")


def engineer_features(df):
    y = df["label"]
    X = SelectKBest(f_classif, k=5).fit_transform(df.drop(columns=["label"]), y)
    return X, y


def build_model():
    from sklearn.linear_model import LogisticRegression
    return LogisticRegression()
'''


def _cv(tmp_path: Path, frame: pd.DataFrame) -> tuple[float, float, tuple[str, ...]]:
    """(our per-fold accuracy of the user's code, the script's own leaky CV, notes)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_score

    path = tmp_path / "select.py"
    path.write_text(SELECTING)
    user = adapt(decompose(path), "label", [0, 1], "noise")
    features = next(i for i in user.implementations if i.slot == "engineer_features")
    code = f"{features.code}\n\ndef load_data(frame):\n    return frame\n\n" \
           "def build_model(problem):\n    from sklearn.linear_model import LogisticRegression" \
           "\n    return LogisticRegression()\n"
    X, y = frame.drop(columns=["label"]), frame["label"].to_numpy()
    folds = StratifiedKFold(5, shuffle=True, random_state=0)
    scores = [float((fit_predict(slots_of(code), Problem("classification", 2, 0, 1, "accuracy"),
                                 X, train, y[train], valid, False) == y[valid]).mean())
              for train, valid in folds.split(X, y)]
    from sklearn.feature_selection import SelectKBest, f_classif

    leaky = cross_val_score(LogisticRegression(), SelectKBest(f_classif, k=5).fit_transform(X, y),
                            y, cv=folds).mean()
    return float(np.mean(scores)), float(leaky), user.notes


def test_feature_code_that_fits_on_all_rows_is_refitted_per_fold(tmp_path: Path) -> None:
    # Pure noise: the script's own CV (selection on every row) looks good; per fold, it is chance.
    ours, leaky, notes = _cv(tmp_path, _noise(100, 2000, 0, seed=1))
    assert leaky > 0.7 and ours < 0.6, (ours, leaky)
    assert any("not fold-safe: it fits SelectKBest" in n for n in notes)
    # With signal, the selection fitted on the training rows is the one applied to the rows
    # predicted (refitting it there, on placeholder labels, would pick other columns).
    ours, _, _ = _cv(tmp_path, _noise(150, 300, 3, seed=2))
    assert ours > 0.8, ours
