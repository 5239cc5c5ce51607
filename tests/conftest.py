"""Shared fixtures: real task data in a temporary cache, tiny training budgets."""

from __future__ import annotations

import fcntl
import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import pytest

from autoresearch.tasks import PreparedData, get_task

TINY_BUDGET = 1.0  # seconds of real training per seed run in tests

# The suite runs two workers on a 2-core machine, so every seed run shares its cores: the CLI's
# interference check (on by default for users) is off here, and tests/test_load.py tests it.
os.environ.setdefault("AUTORESEARCH_MAX_FOREIGN_LOAD", "1")


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(scope="session")
def shakespeare_data(cache_dir: Path) -> PreparedData:
    return get_task("shakespeare").prepare(cache_dir, offline=True)


@pytest.fixture()
def cli_env(cache_dir: Path, tmp_path: Path) -> dict[str, str]:
    # No key from the developer's shell may turn `--proposer auto` into real LLM calls.
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    env.update(AUTORESEARCH_CACHE=str(cache_dir), AUTORESEARCH_OFFLINE="1",
               AUTORESEARCH_STORAGE=str(tmp_path / "store.db"), COLUMNS="200")
    return env


def run_cli(args: list[str], env: dict[str, str], cwd: Path | None = None,
            timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "autoresearch", *args], env=env, cwd=cwd,
                          capture_output=True, text=True, timeout=timeout)


def baseline_with(**knobs: object) -> str:
    """The shakespeare baseline with some knob values replaced (a real, small candidate)."""
    from autoresearch.knobs import apply_knobs, parse_knobs

    code = get_task("shakespeare").baseline_source()
    return apply_knobs(code, parse_knobs(code), knobs)


def shared_folder(factory: pytest.TempPathFactory, name: str) -> Path:
    """A folder every xdist worker of this test session shares (pytest-xdist's recipe)."""
    base = factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent
    folder = base / name
    folder.mkdir(exist_ok=True)
    return folder


def copy_store(source: Path, target: Path) -> Path:
    """A private copy of a store (SQLite's backup: consistent even beside its WAL)."""
    with closing(sqlite3.connect(source)) as src, closing(sqlite3.connect(target)) as dst:
        src.backup(dst)
    return target


def store_made_once(factory: pytest.TempPathFactory, name: str,
                    make: Callable[[Path], None]) -> Path:
    """The store `make` writes at the path it is given, made once per test session even across
    xdist workers: the first worker to take the lock makes it, the others wait and read it."""
    folder = shared_folder(factory, name)
    path, done = folder / "store.db", folder / "done"
    with (folder / "lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done.exists():
            make(path)
            done.touch()
    return path


@pytest.fixture(scope="session")
def real_store(cache_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Baseline plus 2 experiments of the real loop, 1 s of training per seed run (made once per
    test session; the dashboard and report tests read it)."""
    def make(path: Path) -> None:
        env = {**os.environ, "AUTORESEARCH_CACHE": str(cache_dir), "AUTORESEARCH_OFFLINE": "1",
               "COLUMNS": "200"}
        # Full runs only (--screen 0): the pages under test show each seed run's curves, and
        # at 1 s a screening run is so short that an experiment can end screened out, with none.
        out = run_cli(["run", "--task", "shakespeare", "--max-experiments", "2",
                       "--train-seconds", "1", "--screen", "0", "--storage", str(path)], env)
        assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]

    return store_made_once(tmp_path_factory, "real-run", make)
