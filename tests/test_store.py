"""The SQLite store: schema versions, bad files, and a real kill -9 in the middle of a run."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from autoresearch.errors import SchemaTooNewError, StorageError
from autoresearch.records import Mode, Proposal, SeedRun, Status
from autoresearch.storage import Store
from autoresearch.storage.schema import SCHEMA_V1, SCHEMA_VERSION
from autoresearch.tasks import get_task

TASK = get_task("shakespeare")
RERUN_SEEDS = (  # screening runs (measurement < 0) are no measurement of the seed
    "SELECT s.experiment_id, s.seed, COUNT(*) FROM seed_runs s JOIN experiments e "
    "ON e.id = s.experiment_id WHERE s.measurement >= 0 GROUP BY 1, 2 "
    "HAVING MAX(s.measurement) + 1 != COUNT(*) "
    "OR (COUNT(*) > 1 AND e.status = 'discarded' AND e.reason NOT LIKE '%re-measurement%')")


def test_fresh_store_is_wal_and_versioned(tmp_path):
    store = Store(tmp_path / "s.db")
    assert store.schema_version == SCHEMA_VERSION
    mode = sqlite3.connect(tmp_path / "s.db").execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"


def test_round_trip_of_experiments_and_seed_runs(tmp_path):
    store = Store(tmp_path / "s.db")
    study = store.study("shakespeare", TASK.metric, 30.0, "abc", "test")
    assert store.study("shakespeare", TASK.metric, 30.0, "abc", "test").id == study.id
    proposal = Proposal(code="x = 1\n", description="d", category="optimizer",
                        mode=Mode.INCREMENTAL, parent_id=None, proposer="offline",
                        knobs={"X": 1})
    experiment = store.add_experiment(study, proposal, "diff", [42, 137])
    store.add_seed_run(experiment.id, SeedRun(seed=42, failure=None, metric=2.5,
                                              test_metric=2.6, loss_curve=((0, 3.0), (5, 2.0))))
    loaded = store.experiment(experiment.id)
    assert loaded is not None and loaded.status is Status.RUNNING
    assert loaded.seed_runs[0].loss_curve == ((0, 3.0), (5, 2.0))
    store.finish_experiment(loaded.finish(Status.KEPT, None, "ok", time.time()))
    (again,) = store.experiments(study)
    assert again.status is Status.KEPT and again.metric_mean == 2.5
    assert again.proposal.knobs == {"X": 1}


def _v1_store(path) -> None:
    """A store as version 1 wrote it: one study, one experiment, one seed run."""
    db = sqlite3.connect(path)
    db.executescript(SCHEMA_V1)
    db.execute("INSERT INTO studies (id, task, metric, direction, budget_seconds, data_hash, "
               "data_source, created_at) VALUES (1, 'shakespeare', 'val_bpb', 'min', 30, "
               "'abc', 'test', 0)")
    db.execute("INSERT INTO experiments (id, study_id, number, mode, category, description, "
               "proposer, code, status, created_at) VALUES (1, 1, 0, 'baseline', 'baseline', "
               "'baseline', 'baseline', 'x = 1', 'kept', 0)")
    db.execute("INSERT INTO seed_runs (experiment_id, seed, metric, steps) VALUES (1, 42, 2.5, 9)")
    db.execute("PRAGMA user_version = 1")
    db.commit()
    db.close()


def test_a_version_1_store_migrates_and_keeps_its_study(tmp_path):
    path = tmp_path / "v1.db"
    _v1_store(path)
    store = Store(path)
    assert store.schema_version == SCHEMA_VERSION
    # The old study is claimed by the first setup that opens it: the run resumes it.
    study = store.study("shakespeare", TASK.metric, 30.0, "abc", "test", setup="threads=2")
    assert study.id == 1 and study.setup == "threads=2"
    (base,) = store.experiments(study)
    (run,) = base.seed_runs
    assert (run.seed, run.metric, run.steps) == (42, 2.5, 9)
    assert (run.measurement, run.cpu_share) == (0, None)
    # Measurements of one seed are rows of their own now; another setup is another study.
    store.add_seed_run(base.id, SeedRun(seed=42, failure=None, metric=2.7, measurement=1,
                                        cpu_share=0.93))
    (again,) = store.experiments(study)
    assert [(r.measurement, r.metric) for r in again.seed_runs] == [(0, 2.5), (1, 2.7)]
    assert again.seed_scores == {42: pytest.approx(2.6)}
    assert store.study("shakespeare", TASK.metric, 30.0, "abc", "test", setup="threads=1").id != 1
    assert not sqlite3.connect(path).execute("PRAGMA foreign_key_check").fetchall()


def test_newer_schema_is_refused_without_damage(tmp_path):
    path = tmp_path / "new.db"
    Store(path).close()
    sqlite3.connect(path).execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}").connection.commit()
    before = path.read_bytes()
    with pytest.raises(SchemaTooNewError, match="newer autoresearch"):
        Store(path)
    assert path.read_bytes() == before


def test_garbage_file_and_unwritable_path_are_clear_errors(tmp_path):
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StorageError, match="cannot use"):
        Store(junk)
    assert junk.read_bytes() == b"this is not sqlite" * 100
    with pytest.raises(StorageError):
        Store("/proc/no/such/dir/x.db")


def _finished(path) -> list[tuple]:
    if not path.exists():
        return []
    db = sqlite3.connect(path)
    try:
        return db.execute(
            "SELECT id, number, status, metric_mean FROM experiments WHERE status NOT IN "
            "('running', 'pending') ORDER BY id").fetchall()
    except sqlite3.OperationalError:
        return []
    finally:
        db.close()


@pytest.mark.slow
def test_kill_9_loses_no_finished_experiment_and_run_resumes(cli_env, tmp_path):
    store = tmp_path / "store.db"
    args = [sys.executable, "-m", "autoresearch", "run", "--task", "shakespeare",
            "--train-seconds", "1", "--max-experiments", "4", "--seeds", "42,137"]
    proc = subprocess.Popen(args, env=cli_env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 300
    while len(_finished(store)) < 2 and time.time() < deadline:
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    before = _finished(store)
    assert len(before) >= 2, "the run did not finish two experiments in time"

    resumed = subprocess.run(args, env=cli_env, capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr
    after = _finished(store)
    assert after[: len(before)] == before  # nothing finished was lost or re-written
    numbers = [row[1] for row in after]
    assert numbers == sorted(set(numbers)) and len(after) == 5  # baseline + 4
    db = sqlite3.connect(store)
    # A seed scored before the kill is not run again: only a keep (and its incumbent) is
    # measured again, and measurements of a seed are numbered 0, 1, ... without gaps.
    dupes = db.execute(RERUN_SEEDS).fetchall()
    assert dupes == []
