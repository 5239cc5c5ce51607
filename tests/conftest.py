"""Shared fixtures: real task data in a temporary cache, tiny training budgets."""

from __future__ import annotations

import os
import subprocess
import sys
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
