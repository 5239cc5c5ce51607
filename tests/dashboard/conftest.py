"""The short real run of tests/conftest.py (`real_store`), copied per test that writes to
it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import copy_store


@pytest.fixture()
def real_copy(real_store: Path, tmp_path: Path) -> Path:
    """A private copy of the real store, for tests that write to it."""
    return copy_store(real_store, tmp_path / "store.db")
