"""Rankings, interactions and pruning derived from real stored experiments."""

from __future__ import annotations

import pytest

from autoresearch.analysis.pipeline import interactions, pruned, slot_rankings
from autoresearch.analysis.study import best_of
from autoresearch.metric import Direction, Metric
from autoresearch.pipeline import Coordinator
from autoresearch.records import Mode
from autoresearch.search.strategy import Plan
from autoresearch.storage import Store
from tests.pipeline.conftest import ScriptedBackend


class Given:
    """A strategy that hands out the given combos, in order."""

    def __init__(self, metric: Metric, combos: list) -> None:
        self.metric, self.combos = metric, combos

    def best(self, history):
        return best_of(list(history), self.metric)

    def plans(self, history, number, rng, busy, count):
        plans = [Plan(Mode.EXPLORE, history[0], combo, "test")
                 for combo in self.combos[:count]]
        del self.combos[:count]
        return plans


def _measure(backend: ScriptedBackend, store: Store, pairs: list[tuple[str, str]]) -> Coordinator:
    """The combos measured in order by the engine, after the study's baseline."""
    coordinator = Coordinator(backend, store=store)
    space = coordinator.space
    coordinator.loop.strategy = Given(coordinator.metric, [
        space.combo({"features": features, "model": model}) for features, model in pairs])
    coordinator.loop.baseline()
    coordinator.loop.run(len(pairs))
    return coordinator


@pytest.mark.parametrize("higher", [True, False])
def test_interactions_are_direction_aware(tmp_path, higher: bool) -> None:
    backend = ScriptedBackend(higher_is_better=higher)
    c = _measure(backend, Store(tmp_path / "s.db"),
                 [("raw", "tree"), ("poly", "tree"), ("raw", "linear"), ("poly", "linear")])
    found = interactions(c.history(), c.metric)
    assert len(found) == 1
    hit = found[0]
    assert hit.kind == "superadditive"  # in both directions: poly + linear is better than additive
    assert hit.delta == pytest.approx(0.05, abs=1e-9)
    tree = 0.75 - 5 * 0.005  # depth 3 is 5 steps from the ideal 8
    assert hit.predicted_gain == pytest.approx(0.02 + (0.70 - tree), abs=1e-9)
    assert hit.actual_gain == pytest.approx(0.72 + 0.05 - tree, abs=1e-9)


def test_rankings_put_the_best_first_for_min_and_max(tmp_path) -> None:
    for higher in (True, False):
        backend = ScriptedBackend(higher_is_better=higher)
        c = _measure(backend, Store(tmp_path / f"{higher}.db"),
                     [("raw", "linear"), ("raw", "forest"), ("raw", "bad")])
        models = [r for r in slot_rankings(c.history(), c.metric) if r.slot == "model"]
        assert [r.implementation for r in models] == ["forest", "linear", "bad"]
        assert [r.rank for r in models] == [1, 2, 3]


def test_pruning_kills_losing_families_dominated_and_crashing_implementations(tmp_path) -> None:
    backend = ScriptedBackend(crash="flaky")
    c = _measure(backend, Store(tmp_path / "s.db"),
                 [("raw", "linear"), ("raw", "tree"), ("raw", "forest"), ("raw", "bad"),
                  ("scaled", "tree"), ("scaled", "forest"), ("raw", "flaky"),
                  ("scaled", "flaky"), ("poly", "flaky")])
    items = pruned(c.history(), c.metric, margin=0.1)
    found = {(p.kind, p.slot, p.name) for p in items}
    assert ("family", "model", "bad") in found  # 0.30 vs 0.79: loses by more than 0.1
    assert ("family", "model", "linear") not in found  # 0.71 is within 0.1 of the best
    assert ("implementation", "model", "tree") in found  # forest beats it in every context
    assert ("crashes", "model", "flaky") in found  # failed 3 times
    assert all(p.reason for p in items)


def test_script_task_experiments_give_empty_views(tmp_path) -> None:
    metric = Metric("val_bpb", Direction.MIN)
    assert slot_rankings([], metric) == [] and interactions([], metric) == []
    assert pruned([], metric) == []
