"""The engine's rules on the in-process kit: milliseconds per test, real loop, real store."""

from __future__ import annotations

import pytest

from autoresearch.errors import AutoresearchError, CostLimitReached, ProposalError
from autoresearch.metric import Direction, Metric
from autoresearch.records import FailureKind, LLMUsage, Mode, Proposal, SeedRun, Status
from tests.engine.kit import (
    HoldoutKitTask,
    InstantExecutor,
    KitTask,
    ManyPlans,
    TimedExecutor,
    candidate,
    loop,
)


def test_keep_rule_short_circuit_and_additive_threshold(tmp_path) -> None:
    executor = InstantExecutor()
    research = loop(tmp_path, [candidate(0.6, 0.6, name="better"),
                               candidate(0.55, 0.9, name="worse first seed"),
                               candidate(0.605, 0.607, name="within min_delta"),
                               candidate(0.7, 0.7, name="invalid")],
                    executor=executor, min_delta=0.01)
    assert research.baseline().status is Status.KEPT
    reason = research.run(max_experiments=4)
    assert "--max-experiments 4" in reason
    _, better, worse, close, invalid = research.history()
    assert better.status is Status.KEPT and "mean +0.1000" in better.reason
    assert "confirmed by re-measurement" in better.reason
    assert [(r.seed, r.measurement) for r in better.seed_runs] == [(0, 0), (1, 0), (0, 1), (1, 1)]
    assert worse.status is Status.DISCARDED and "remaining seeds skipped" in worse.reason
    assert [r.seed for r in worse.seed_runs] == [0]  # the second seed never ran
    # Seed 0 gains 0.005 over the incumbent with no run noise: never more than min_delta.
    assert close.status is Status.DISCARDED and "< 0.01" in close.reason
    assert invalid.status is Status.INVALID and invalid.failure is FailureKind.VALIDATION
    # baseline (2 seeds, twice), better (2 + its re-measurement), worse and close (1 seed each)
    assert len(executor.jobs) == 4 + 4 + 1 + 1


def test_direction_min_keeps_lower_scores(tmp_path) -> None:
    task = KitTask(metric=Metric("loss", Direction.MIN), baseline=candidate(1.0, 1.0))
    research = loop(tmp_path, [candidate(0.9, 0.9), candidate(1.1, 0.1)], task=task)
    research.baseline()
    research.run(max_experiments=2)
    assert [e.status for e in research.history()[1:]] == [Status.KEPT, Status.DISCARDED]


def test_a_killed_run_resumes_its_unfinished_seeds_only(tmp_path) -> None:
    first = loop(tmp_path, [])
    base = first.baseline()
    orphan = first.store.add_experiment(first.study, Proposal(
        code=candidate(0.8, 0.8), description="orphan", category="kit", mode=Mode.INCREMENTAL,
        parent_id=base.id, proposer="scripted"), "", [0, 1])
    first.store.add_seed_run(orphan.id, SeedRun(seed=0, failure=None, metric=0.8))
    executor = InstantExecutor()
    second = loop(tmp_path, [], executor=executor)
    assert second.run(max_experiments=1).startswith("the study holds 1")
    # Seed 1, then the keep's re-measurement; seed 0's stored run is not run again.
    assert [(j.code, j.seed) for j in executor.jobs] == [(orphan.code, s) for s in (1, 0, 1)]
    done = second.history()[1]
    assert done.status is Status.KEPT
    assert [(r.seed, r.measurement) for r in done.seed_runs] == [(0, 0), (1, 0), (0, 1), (1, 1)]


def test_cost_cap_stops_before_the_call_and_failed_proposals_are_recorded(tmp_path) -> None:
    usage = LLMUsage(model="m", input_tokens=10, cost_usd=0.25)
    research = loop(tmp_path, [candidate(0.6, 0.6),
                               ProposalError("no code in the reply", usage=usage),
                               CostLimitReached("cost cap reached: stopped"),
                               candidate(0.9, 0.9)])
    research.baseline()
    assert research.run(max_experiments=10) == "cost cap reached: stopped"
    history = research.history()
    assert len(history) == 3
    failed = history[2]
    assert failed.status is Status.INVALID and failed.failure is FailureKind.PROPOSAL
    assert failed.proposal.usage is not None and failed.proposal.usage.cost_usd == 0.25


def test_flights_decide_against_the_best_known_when_each_result_arrives(tmp_path) -> None:
    executor = TimedExecutor(workers=2)
    research = loop(tmp_path, [candidate(0.7, 0.7, sleep=0.3, name="slow"),
                               candidate(0.8, 0.8, sleep=0.02, name="fast"),
                               candidate(0.75, 0.75, sleep=0.02, name="third")],
                    executor=executor)
    research.baseline()
    research.run(max_experiments=3, workers=2)
    executor.shutdown()
    _, slow, fast, third = research.history()
    # Slow and fast start together; fast (and then third, in the freed slot) finish first.
    assert fast.status is Status.KEPT and third.status is Status.DISCARDED
    assert slow.status is Status.DISCARDED and "remaining seeds skipped" in slow.reason
    finished = [e.number for e in research.observer.finished]  # type: ignore[attr-defined]
    assert finished.index(fast.number) < finished.index(slow.number)
    # The second plan was made while the first was in flight: a different parent or none free.
    assert research.proposer.contexts[1].parent.id == research.history()[0].id  # type: ignore[attr-defined]


def test_the_holdout_is_scored_before_the_verdict_is_committed(tmp_path) -> None:
    research = loop(tmp_path, [candidate(0.6, 0.6, holdout=0.55),
                               candidate(0.55, 0.55, holdout=0.99)], task=HoldoutKitTask())
    base = research.baseline()
    assert base.status is Status.KEPT and base.test_mean == 0.4
    research.run(max_experiments=2)
    stored = research.store.experiments(research.study)
    kept, discarded = stored[1], stored[2]
    assert kept.status is Status.KEPT and kept.test_mean == 0.55
    assert discarded.status is Status.DISCARDED and discarded.test_mean is None
    seen = {e.number: e.test_mean for e in research.observer.finished}  # type: ignore[attr-defined]
    assert seen[kept.number] == 0.55  # announced finished with its holdout, never changed after


def test_a_kept_verdict_awaiting_its_holdout_already_counts_as_the_best(tmp_path) -> None:
    # A's seeds end at 0.1 s and 0.2 s, their re-measurements at 0.3 s and 0.4 s (kept then),
    # its holdout at 0.5 s; B's first seed ends at 0.45 s.
    executor = TimedExecutor(workers=2)
    research = loop(tmp_path, [candidate(0.8, 0.8, sleep=0.1, holdout=0.7, name="A"),
                               candidate(0.7, 0.9, sleep=0.45, holdout=0.6, name="B")],
                    task=HoldoutKitTask(), executor=executor)
    research.baseline()
    research.run(max_experiments=2, workers=2)
    executor.shutdown()
    _, a, b = research.history()
    assert a.status is Status.KEPT and a.test_mean == 0.7
    assert b.status is Status.DISCARDED and "vs #1: paired gains [s0 -0.1000]" in b.reason


def test_the_history_is_read_once_however_long_the_study(tmp_path) -> None:
    script = [candidate(0.5 + i / 100, 0.5 + i / 100) for i in range(30)]
    research = loop(tmp_path, list(script), strategy=ManyPlans(KitTask().metric))
    research.baseline()
    research.run(max_experiments=30, workers=3)
    assert len(research.history()) == 31
    assert research.store.reads == 1  # type: ignore[attr-defined]


def test_step_runs_one_experiment_to_its_verdict(tmp_path) -> None:
    research = loop(tmp_path, [candidate(0.6, 0.6)], strategy=ManyPlans(KitTask().metric, 1))
    research.baseline()
    assert research.step().status is Status.KEPT
    with pytest.raises(AutoresearchError, match="nothing left"):
        research.step()


def test_a_strategy_with_nothing_left_stops_the_run(tmp_path) -> None:
    strategy = ManyPlans(KitTask().metric, left=2)
    research = loop(tmp_path, [candidate(0.6, 0.6), candidate(0.7, 0.7)], strategy=strategy)
    research.baseline()
    assert research.run(max_experiments=10, workers=2) == "the strategy has nothing left to try"
    assert [e.status for e in research.history()[1:]] == [Status.KEPT] * 2
