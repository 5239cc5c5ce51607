"""The short real run of tests/conftest.py (`real_store`), copied per test that writes to
it."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest


@pytest.fixture()
def real_copy(real_store: Path, tmp_path: Path) -> Path:
    """A private copy of the real store, for tests that write to it."""
    target = tmp_path / "store.db"
    with sqlite3.connect(real_store) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    return target
