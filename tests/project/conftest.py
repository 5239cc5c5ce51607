"""A tiny Karpathy-style project, made by the tests: a fixed prepare.py, an editable train.py."""

from __future__ import annotations

from pathlib import Path

import pytest

PREPARE = '''"""Fixed: data, seed and evaluation (read-only for candidates)."""
import os

import numpy as np

SEED = int(os.environ.get("AUTORESEARCH_SEED", "0"))
BUDGET = float(os.environ.get("AUTORESEARCH_TIME_BUDGET", "300"))
_rng = np.random.default_rng(1234)
X = _rng.normal(size=(256, 8))
Y = X @ _rng.normal(size=8) + 0.1 * _rng.normal(size=256)


def evaluate(w):
    return float(np.mean((X[200:] @ w - Y[200:]) ** 2))
'''

# Gradient descent for a fixed number of steps: the learning rate is far too small, so the
# offline search finds a real gain within a few experiments.
TRAIN = '''import numpy as np

from prepare import SEED, X, Y, evaluate

LEARNING_RATE = 0.001  # search: log 1e-4..0.3 [optimizer]
STEPS = 100

rng = np.random.default_rng(SEED)
w = rng.normal(size=X.shape[1]) * 0.01
for step in range(STEPS):
    grad = 2 * X[:200].T @ (X[:200] @ w - Y[:200]) / 200
    w -= LEARNING_RATE * grad
print("---")
print(f"val_loss:         {evaluate(w):.6f}")
print(f"training_seconds: 0.1")
print(f"num_steps:        {STEPS}")
'''


def make_project(root: Path, train: str = TRAIN, **extra: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "prepare.py").write_text(PREPARE)
    (root / "train.py").write_text(train)
    for name, text in extra.items():
        path = root / name.replace("__", "/")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    return make_project(tmp_path / "proj")
