"""The Python API (Coordinator over a custom Backend, on the engine): modes, pruning, dedup,
resume, LLM turns."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from autoresearch.analysis.combo import combo_of
from autoresearch.errors import ProposalError
from autoresearch.metric import Direction, Metric
from autoresearch.pipeline import Backend, Coordinator
from autoresearch.pipeline.modes import Planner, Skips
from autoresearch.pipeline.proposer import SlotContext, SlotProposal
from autoresearch.pipeline.space import Implementation, Param, SearchSpace
from autoresearch.records import FailureKind, LLMUsage, Mode, Status
from autoresearch.storage import Store
from tests.pipeline.conftest import ScriptedBackend


class ScriptedSlotProposer:
    """Stands in for the model: proposes from what the context shows it."""

    name = "scripted-llm"

    def __init__(self) -> None:
        self.contexts: list[SlotContext] = []

    def propose(self, context: SlotContext) -> SlotProposal:
        self.contexts.append(context)
        if len(self.contexts) == 2:
            raise ProposalError("the reply held no code", usage=LLMUsage(model="m",
                                                                          input_tokens=10))
        return SlotProposal("model", "def build_model(problem):\n    return 'boosted'\n",
                            "boosted trees", "boosting should beat the forest",
                            LLMUsage(model="m", input_tokens=100, output_tokens=20))


class BoostAwareBackend(ScriptedBackend):
    def value(self, combo) -> float:
        if combo["model"].startswith("llm_") and "boosted" in combo.sources["model"]:
            return 0.9 + (0.02 if combo["features"] == "poly" else 0.0)
        return super().value(combo)


def test_python_api_finds_the_best_combo_with_all_modes(tmp_path) -> None:
    backend = BoostAwareBackend()
    assert isinstance(backend, Backend)
    proposer = ScriptedSlotProposer()
    store = Store(tmp_path / "api.db")
    history = Coordinator(backend, budget_per_round=10, store=store,
                          slot_proposer=proposer).run(n_rounds=4, llm_rounds=3)
    modes = Counter(e.proposal.mode for e in history)
    assert modes[Mode.BASELINE] == 1
    for mode in (Mode.EXPLORE, Mode.EXPLOIT, Mode.COMBINE, Mode.NARROW):
        assert modes[mode] >= 1, modes
    assert modes[Mode.LLM] == 3
    keys = [combo_of(e).key for e in history if e.proposal.mode is not Mode.LLM]
    assert len(keys) == len(set(keys)), "a combo ran twice"
    assert len(backend.calls) == len(set(backend.calls))
    # Template rounds reach the best template combo: forest at depth 8 with poly features.
    templates = [e for e in history if e.proposal.mode is not Mode.LLM and e.metric_mean]
    assert max(e.metric_mean for e in templates) == pytest.approx(0.02 + 0.78, abs=0.011)
    llm = [e for e in history if e.proposal.mode is Mode.LLM]
    assert llm[1].status is Status.INVALID and llm[1].failure is FailureKind.PROPOSAL
    assert llm[1].proposal.usage is not None and llm[1].proposal.usage.input_tokens == 10
    kept = [e for e in llm if e.status is Status.KEPT]
    assert kept, "the proposed implementation beats every template combo"
    assert "+def build_model(problem):" not in kept[0].diff  # custom backends store knobs JSON
    assert '"model": "llm_' in kept[0].code and kept[0].diff.startswith("---")
    context = proposer.contexts[0]
    assert context.rankings and context.pruned  # the model sees rankings and dead families
    assert any(p.name == "bad" for p in context.pruned)


def test_pruned_families_are_not_proposed_after_the_first_round(tmp_path) -> None:
    backend = ScriptedBackend(crash="flaky")
    coordinator = Coordinator(backend, budget_per_round=8, store=Store(tmp_path / "p.db"),
                              prune_margin=0.1)
    history = coordinator.run(n_rounds=4, llm_rounds=0)
    first_round = [e for e in history if 1 <= e.number <= 8]
    later = [e for e in history if e.number > 8]
    assert any(combo_of(e)["model"] == "bad" for e in first_round)
    assert later and not any(combo_of(e)["model"] == "bad" for e in later)
    flaky = [e for e in history if combo_of(e)["model"] == "flaky"]
    assert len(flaky) <= 3 and all(e.status is Status.CRASHED for e in flaky)
    assert flaky[0].seed_runs[0].reason.startswith("RuntimeError")


def test_exploit_uses_a_grid_when_small_and_tpe_when_large() -> None:
    metric = Metric("score", Direction.MAX)
    small = SearchSpace(("model",), (
        Implementation("model", "tree", "trees", (Param("depth", "int", 3, 1, 12),)),
        Implementation("model", "forest", "trees", (Param("depth", "int", 3, 1, 12),))),
        model_slot="model", coverage=("model",))
    large = SearchSpace(("model",), (
        Implementation("model", "forest", "trees", (
            Param("depth", "int", 3, 1, 12), Param("leaf", "int", 2, 1, 9),
            Param("rate", "log", 0.1, 0.01, 1.0))),), model_slot="model", coverage=("model",))
    grid = Planner(small, metric, random.Random(0)).plan(Mode.EXPLOIT, [], 50, Skips(), set())
    assert len(grid) == 6 and all("grid over the winning region (6 variants)" in c.hypothesis
                                  for c in grid)
    assert {(c.combo["model"], c.combo.params_of("model")["depth"]) for c in grid} == {
        (m, d) for m in ("tree", "forest") for d in (1, 3, 12)}
    tpe = Planner(large, metric, random.Random(0)).plan(Mode.EXPLOIT, [], 8, Skips(), set())
    assert len(tpe) == 8 and all("TPE over the winning region (27 variants)" in c.hypothesis
                                 for c in tpe)
    assert all(1 <= c.combo.params_of("model")["depth"] <= 12 for c in tpe)


def test_a_killed_run_resumes_without_rerunning_or_overwriting(tmp_path) -> None:
    path = tmp_path / "resume.db"
    first = ScriptedBackend()
    coordinator = Coordinator(first, budget_per_round=5, store=Store(path))
    coordinator.run(n_rounds=1, llm_rounds=0)
    done = coordinator.history()
    # A combo recorded as running, as a kill -9 between add_experiment and its verdict leaves it.
    space = coordinator.space
    orphan = space.combo({"features": "poly", "model": "forest"}, {"model": {"depth": 8}})
    from autoresearch.pipeline.proposer import combo_json
    from autoresearch.records import Proposal

    store = Store(path)
    store.add_experiment(coordinator.study, Proposal(
        code=combo_json(orphan), description=orphan.describe(), category="model",
        mode=Mode.EXPLOIT,
        parent_id=None, proposer="pipeline", knobs=orphan.knobs()), "", [])
    second = ScriptedBackend()
    resumed = Coordinator(second, budget_per_round=5, store=store)
    assert resumed.study.id == coordinator.study.id
    history = resumed.run(n_rounds=1, llm_rounds=0)
    assert second.calls[0] == orphan.key  # the orphan first, nothing finished re-run
    assert not set(second.calls) & {combo_of(e).key for e in done}
    before = {e.id: (e.status, e.metric_mean) for e in done}
    assert all(before[e.id] == (e.status, e.metric_mean) for e in history if e.id in before)
    assert all(e.status.finished for e in history)
    assert len(history) == len(done) + 1 + 5


def test_bad_backend_answers_are_recorded_not_raised(tmp_path) -> None:
    class Odd(ScriptedBackend):
        def run_experiment(self, config):
            return {"linear": "oops", "tree": [float("nan")]}.get(config["model"], [0.5])

    history = Coordinator(Odd(), budget_per_round=6, store=Store(tmp_path / "o.db")
                          ).run(n_rounds=1, llm_rounds=0)
    kinds = {combo_of(e)["model"]: e.failure for e in history}
    assert kinds["linear"] is FailureKind.NO_RESULT
    assert kinds["tree"] is FailureKind.DIVERGENCE


def test_explore_measures_a_leading_family_first_then_cheap_ones() -> None:
    metric = Metric("score", Direction.MAX)
    space = SearchSpace(("model",), (
        Implementation("model", "linear", "linear", cost=1),
        Implementation("model", "forest", "forest", cost=6),
        Implementation("model", "bayes", "bayes", cost=1),
        Implementation("model", "boosting", "boosting", cost=3, lead=True),
        Implementation("model", "knn", "neighbors", cost=2)), model_slot="model",
        coverage=("model",))
    gaps = Planner(space, metric, random.Random(0)).coverage_gaps([], Skips())
    assert [cell[-1] for cell in gaps] == ["boosting", "linear", "bayes", "neighbors", "forest"]


def test_explore_measures_a_model_first_with_the_features_it_pairs_with() -> None:
    """Trees are first measured on ordinal codes (as good as one-hot columns for a split, at a
    fraction of the cost); a model without a pairing keeps the base's features."""
    metric = Metric("score", Direction.MAX)
    space = SearchSpace(("features", "model"), (
        Implementation("features", "onehot", "onehot"),
        Implementation("features", "ordinal", "ordinal"),
        Implementation("model", "linear", "linear", cost=1),
        Implementation("model", "boosting", "boosting", cost=3, lead=True,
                       pairs={"features": "ordinal"})), model_slot="model",
        coverage=("features", "model"))
    gaps = Planner(space, metric, random.Random(0)).coverage_gaps([], Skips())
    assert gaps[:3] == [("ordinal", "boosting"), ("onehot", "linear"), ("onehot", "boosting")]
