"""Replay and ablation on the engine: their runs are stored, and they say what mattered."""

from __future__ import annotations

from autoresearch.engine.verify import ablate, replay
from autoresearch.records import Mode, Status
from autoresearch.search.strategy import Plan, Strategy

from .kit import HIGH, KitTask, knobs, loop


class FromBest(Strategy):
    """Every experiment builds on the best so far: one lineage."""

    def plans(self, history, number, rng, busy, count):
        return [Plan(Mode.INCREMENTAL, self.best(history))]


def _study(tmp_path, script=None):
    """baseline 0.5 -> #1 a=0.2 (0.7) -> #2 b=0.3 (0.8) -> #3 c=0.1 (0.9); b makes a moot."""
    task = KitTask(baseline=knobs())
    script = script or [knobs(a=0.2), knobs(a=0.2, b=0.3), knobs(a=0.2, b=0.3, c=0.1)]
    research = loop(tmp_path, script, task=task, strategy=FromBest(HIGH))
    research.baseline()
    count = len(script)  # the proposer uses the script up
    research.run(max_experiments=count)
    assert [e.status for e in research.history()] == [Status.KEPT] * (count + 1)
    return research


def test_ablation_finds_the_change_a_later_one_made_moot(tmp_path) -> None:
    research = _study(tmp_path)
    target = research.history()[-1]
    result = ablate(research, target)
    verdicts = {row.removed[0].child.number: row.verdict for row in result.rows
                if len(row.removed) == 1}
    assert verdicts == {1: "no effect", 2: "mattered", 3: "mattered"}
    effects = {row.removed[0].child.number: round(row.effect.mean, 4) for row in result.rows
               if len(row.removed) == 1 and row.effect is not None}
    assert effects == {1: 0.0, 2: 0.1, 3: 0.1}
    # the one change without an effect: its own ablation is the minimal code
    assert result.minimal is not None and result.minimal.removed[0].child.number == 1
    assert result.kept == "~b, ~c"  # from the baseline: a is not needed
    stored = [e for e in research.history() if e.proposal.mode is Mode.ABLATION]
    assert len(stored) == 3 and all(e.status is Status.MEASURED for e in stored)
    assert all(e.proposal.parent_id == target.id for e in stored)
    assert research.strategy.best(research.history()).id == target.id  # never the best


def test_an_ablation_that_breaks_the_code_is_recorded_as_such(tmp_path) -> None:
    research = _study(tmp_path, [knobs(a=0.2), knobs(a=0.2, b=0.3) + "requires = 'a'\n"])
    result = ablate(research, research.history()[-1])
    verdicts = {row.removed[0].describe(): row.verdict for row in result.rows}
    assert verdicts == {"#1 ~a": "removing it breaks the code", "#2 ~b": "mattered",
                        "#2 +requires": "no effect"}  # #2 changed two places: two changes
    assert result.minimal is not None and result.kept == "~a, ~b"


def test_replay_stores_new_measurements_and_says_whether_they_reproduce(tmp_path) -> None:
    research = _study(tmp_path)
    target = research.history()[-1]
    before = len(target.seed_runs)
    result = replay(research, target, (0, 1))
    assert result.reproduces and "reproduces within the study's noise" in result.describe()
    assert len(result.after.seed_runs) == before + 2
    assert sorted(r.measurement for r in result.after.seed_runs if r.seed == 0)[-1] >= 1
    stored = next(e for e in research.store.experiments(research.study) if e.id == target.id)
    assert len(stored.seed_runs) == before + 2


class TwoBranches(Strategy):
    """The first two experiments both build on the baseline; then the shipped strategy."""

    def plans(self, history, number, rng, busy, count):
        if number <= 2:
            return [Plan(Mode.INCREMENTAL, history[0])]
        return [self.plan(history, number, rng, busy)]


def test_two_kept_branches_that_changed_different_knobs_are_merged_and_judged(tmp_path):
    research = loop(tmp_path, [knobs(a=0.2), knobs(c=0.25), knobs(a=0.3)],
                    task=KitTask(baseline=knobs()), strategy=TwoBranches(HIGH))
    research.baseline()
    research.run(max_experiments=4)
    base, first, second, merge, after = research.history()
    assert first.status is Status.KEPT and second.status is Status.KEPT
    assert first.proposal.parent_id == second.proposal.parent_id == base.id
    assert merge.proposal.mode is Mode.MERGE and merge.proposal.proposer == "merge"
    assert merge.proposal.description == "merge of #2 and #1"
    assert merge.code == knobs(a=0.2, c=0.25) and merge.proposal.parent_id == second.id
    assert merge.status is Status.KEPT and round(merge.metric_mean, 4) == 0.955
    assert after.proposal.mode is not Mode.MERGE  # each pair once; the merge is an ancestor


def test_a_conflicted_merge_goes_to_a_proposer_that_resolves_merges(tmp_path):
    """b changed on one branch, a line added right above it on the other: merge3 conflicts."""
    added = knobs().replace("b = 0.0", "d = 1\nb = 0.0").replace("c = 0.0", "c = 0.1")
    resolved = added.replace("b = 0.0", "b = 0.3")
    research = loop(tmp_path, [added, knobs(b=0.3), resolved],
                    task=KitTask(baseline=knobs()),
                    strategy=TwoBranches(HIGH, resolve_conflicts=True))
    research.proposer.resolves_merges = True
    research.baseline()
    research.run(max_experiments=3)
    merge = research.history()[3]
    asked = research.proposer.contexts[-1]
    assert asked.mode is Mode.MERGE and asked.suggestion.code is None
    assert merge.proposal.mode is Mode.MERGE and merge.code == resolved
    assert merge.status is Status.KEPT


def test_branches_that_changed_the_same_knob_are_not_merged(tmp_path):
    research = loop(tmp_path, [knobs(a=0.2), knobs(a=0.25), knobs(b=0.1)],
                    task=KitTask(baseline=knobs()), strategy=TwoBranches(HIGH))
    research.baseline()
    research.run(max_experiments=3)
    assert all(e.proposal.mode is not Mode.MERGE for e in research.history())


def test_a_change_of_two_separate_knobs_is_ablated_knob_by_knob(tmp_path) -> None:
    research = _study(tmp_path, [knobs(a=0.2, c=0.1)])  # a and c: two hunks, b between
    result = ablate(research, research.history()[-1])
    labels = {row.removed[0].describe(): row.verdict for row in result.rows}
    assert labels == {"#1 ~a": "mattered", "#1 ~c": "mattered"}
    assert [round(r.effect.mean, 4) for r in result.rows] == [0.2, 0.1]


def test_ablations_do_not_use_up_the_search_budget(tmp_path) -> None:
    research = _study(tmp_path, [knobs(a=0.2), knobs(a=0.2, b=0.3)])
    ablate(research, research.history()[-1])
    more = loop(tmp_path, [knobs(a=0.2, b=0.3, c=0.1)], task=KitTask(baseline=knobs()),
                strategy=FromBest(HIGH), store=research.store)
    more.run(max_experiments=3)
    assert more.history()[-1].code == knobs(a=0.2, b=0.3, c=0.1)
    assert more.history()[-1].status is Status.KEPT
