"""A store from a short real run (made once per test session, even across xdist workers),
copied per test that writes to it."""

from __future__ import annotations

import fcntl
import os
import sqlite3
from pathlib import Path

import pytest

from tests.conftest import run_cli


@pytest.fixture(scope="session")
def real_store(cache_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Baseline plus 2 experiments of the real loop, 1 s of training per seed run."""
    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent  # shared by the workers of this session (pytest-xdist's recipe)
    folder = base / "dashboard-real"
    folder.mkdir(exist_ok=True)
    path, done = folder / "store.db", folder / "done"
    with (folder / "lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one worker runs the loop, the others wait for it
        if not done.exists():
            env = {**os.environ, "AUTORESEARCH_CACHE": str(cache_dir),
                   "AUTORESEARCH_OFFLINE": "1", "COLUMNS": "200"}
            # Full runs only (--screen 0): the pages under test show each seed run's curves,
            # and at 1 s a screening run is so short that an experiment can end screened out,
            # with none.
            out = run_cli(["run", "--task", "shakespeare", "--max-experiments", "2",
                           "--train-seconds", "1", "--screen", "0", "--storage", str(path)],
                          env)
            assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
            done.touch()
    return path


@pytest.fixture()
def real_copy(real_store: Path, tmp_path: Path) -> Path:
    """A private copy of the real store, for tests that write to it."""
    target = tmp_path / "store.db"
    with sqlite3.connect(real_store) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    return target
