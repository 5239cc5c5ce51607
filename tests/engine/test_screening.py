"""Screening runs on the kit: one seed at a fraction of the budget decides whether a candidate
gets its full runs; it never decides a keep."""

from __future__ import annotations

from autoresearch.records import Status
from tests.engine.kit import InstantExecutor, candidate, loop


def test_a_candidate_clearly_worse_when_screened_gets_no_full_run(tmp_path) -> None:
    executor = InstantExecutor()
    research = loop(tmp_path, [candidate(0.9, 0.9, screen=0.2, name="slow starter")],
                    executor=executor, screen=0.25)
    research.baseline()
    research.run(max_experiments=1)
    base, screened = research.history()
    assert screened.status is Status.DISCARDED and screened.reason.startswith("screened out")
    assert "at 25% of the budget scored 0.2000 against #0's 0.5000" in screened.reason
    # The baseline's 4 full runs, then one screening run each (the incumbent's first).
    assert [(j.code, j.seed, j.budget) for j in executor.jobs[4:]] == [
        (base.code, 0, 0.25), (screened.code, 0, 0.25)]
    # Stored apart from the scores, and read back apart.
    stored = {e.id: e for e in research.store.experiments(research.study)}
    assert stored[screened.id].seed_runs == () and stored[screened.id].metric_mean is None
    assert [(r.seed, r.screen, r.measurement) for r in stored[screened.id].screens] == \
        [(0, 0.25, -1)]
    assert [r.screen for r in stored[base.id].screens] == [0.25]
    assert stored[base.id].metric_mean == 0.5  # its screening run is not one of its scores


def test_screening_can_spare_compute_but_never_grants_a_keep(tmp_path) -> None:
    executor = InstantExecutor()
    research = loop(tmp_path, [candidate(0.5, 0.5, screen=0.9, name="fast starter, no gain"),
                               candidate(0.7, 0.7, screen=0.6, name="better"),
                               candidate(0.9, 0.9, screen=0.62, name="better still")],
                    executor=executor, screen=0.25)
    research.baseline()
    research.run(max_experiments=3)
    _, tie, better, best = research.history()
    assert tie.status is Status.DISCARDED and "screened" not in tie.reason
    assert len(tie.seed_runs) >= 2  # judged on its full runs alone
    assert better.status is Status.KEPT and best.status is Status.KEPT
    # A new incumbent's own screening run serves again against the next candidate.
    assert [(r.seed, r.screen) for r in better.screens] == [(0, 0.25)]
    assert best.metric_mean == 0.9 and len(best.screens) == 1


def test_a_crash_when_screened_is_the_candidates_failure_and_off_means_off(tmp_path) -> None:
    research = loop(tmp_path, ["crash\n" + candidate(0.9, 0.9)], screen=0.25)
    research.baseline()
    research.run(max_experiments=1)
    crashed = research.history()[1]
    assert crashed.status is Status.CRASHED and crashed.seed_runs == ()
    assert [r.screen for r in crashed.screens] == [0.25]

    executor = InstantExecutor()
    plain = loop(tmp_path / "plain", [candidate(0.9, 0.9, screen=0.1)], executor=executor)
    plain.baseline()
    plain.run(max_experiments=1)
    assert plain.history()[1].status is Status.KEPT
    assert all(j.budget == 1.0 for j in executor.jobs)


def test_a_screening_run_and_the_full_run_of_a_seed_are_retried_apart(tmp_path) -> None:
    executor = InstantExecutor()
    # Seed 0 is starved twice when screened and twice at the full budget: each within the
    # two retries, so the candidate is judged; one count for both would end it INTERFERED.
    code = candidate(0.9, 0.9, screen=0.6, starve=(2,), name="unlucky twice")
    research = loop(tmp_path, [code], executor=executor, screen=0.25)
    research.baseline()
    research.run(max_experiments=1)
    tried = research.history()[1]
    assert tried.status is Status.KEPT, tried.reason
    assert [(j.seed, j.budget) for j in executor.jobs if j.code == code][:6] == [
        (0, 0.25)] * 3 + [(0, 1.0)] * 3
    assert [r.failure is None for r in tried.screens] == [False, False, True]
    always = loop(tmp_path / "always", [candidate(0.9, 0.9, screen=0.6, starve=(3,))],
                  screen=0.25)
    always.baseline()
    always.run(max_experiments=1)
    starved = always.history()[1]
    assert starved.status is Status.INTERFERED
    assert starved.reason.startswith("the screening run of seed 0 was starved by other load on "
                                     "the machine 3 times (CPU share 20%)"), starved.reason
