"""Small real tables and a scripted backend for the pipeline tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from autoresearch.analysis.combo import Combo
from autoresearch.pipeline.space import Implementation, Param, SearchSpace


def mixed_frame(rows: int = 120, seed: int = 0) -> pd.DataFrame:
    """A classification table with numbers, text, a mixed column and an empty column."""
    rng = np.random.default_rng(seed)
    x1 = rng.normal(size=rows)
    x2 = rng.normal(size=rows)
    colour = rng.choice(["red", "green", "blue"], size=rows)
    label = np.where(x1 + 0.5 * x2 + (colour == "red") > 0.3, "yes", "no")
    mixed = [str(v) if i % 7 else "n/a" for i, v in enumerate(rng.integers(0, 5, size=rows))]
    return pd.DataFrame({"x1": x1.round(3), "x2": x2.round(3), "colour": colour,
                         "mixed": mixed, "empty": [np.nan] * rows, "label": label})


@pytest.fixture()
def small_csv(tmp_path: Path) -> Path:
    path = tmp_path / "small.csv"
    mixed_frame().to_csv(path, index=False)
    return path


class ScriptedBackend:
    """A custom Backend: scores are a known function of the combo (additive parts plus one
    interaction), so what the coordinator finds can be checked exactly."""

    metric_name = "score"

    def __init__(self, higher_is_better: bool = True, crash: str | None = None) -> None:
        self.higher_is_better = higher_is_better
        self.crash = crash
        self.calls: list[str] = []
        self.space = SearchSpace(
            slots=("clean", "features", "model"),
            implementations=(
                Implementation("clean", "keep", "keep"),
                Implementation("clean", "clip", "clip", (Param("level", "float", 0.9, 0.5, 1.0),)),
                Implementation("features", "raw", "plain"),
                Implementation("features", "scaled", "plain"),
                Implementation("features", "poly", "expand"),
                Implementation("model", "linear", "linear"),
                Implementation("model", "tree", "trees", (Param("depth", "int", 3, 1, 12),)),
                Implementation("model", "forest", "trees", (Param("depth", "int", 3, 1, 12),)),
                Implementation("model", "bad", "bad"),
                Implementation("model", "flaky", "flaky"),
            ),
            model_slot="model", coverage=("features", "model"))

    def get_search_space(self) -> SearchSpace:
        return self.space

    def value(self, combo: Combo) -> float:
        parts = {"raw": 0.0, "scaled": 0.01, "poly": 0.02,
                 "linear": 0.70, "tree": 0.75, "forest": 0.78, "bad": 0.30, "flaky": 0.5}
        value = parts.get(combo["features"], 0.0) + parts.get(combo["model"], 0.6)
        if combo.slots.get("clean") == "clip":
            value += 0.004 - abs(combo.params_of("clean").get("level", 0.9) - 0.7) * 0.01
        if combo["model"] in ("tree", "forest"):
            value -= abs(combo.params_of("model").get("depth", 3) - 8) * 0.005
        if combo["features"] == "poly" and combo["model"] == "linear":
            value += 0.05  # superadditive: poly helps linear models more than its own gain
        return value if self.higher_is_better else 1.0 - value

    def run_experiment(self, config: Combo) -> list[float]:
        self.calls.append(config.key)
        if config["model"] == self.crash:
            raise RuntimeError("this implementation always crashes")
        v = self.value(config)
        return [v - 0.001, v + 0.001]
