"""The import layers of docs/architecture.md hold: no upward import, no circle between
subpackages (the contract is [tool.importlinter] in pyproject.toml)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_imports_point_down_only() -> None:
    # Beside this interpreter first: a venv's scripts are there even when it is not activated.
    beside = Path(sys.executable).with_name("lint-imports")
    linter = str(beside) if beside.exists() else shutil.which("lint-imports")
    assert linter, "import-linter is part of the test extra: pip install -e '.[test]'"
    result = subprocess.run([linter, "--config", str(ROOT / "pyproject.toml"), "--no-cache"],
                            cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "1 kept, 0 broken" in result.stdout
