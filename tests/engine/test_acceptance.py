"""The keep rule on the kit: paired seeds, the sequential test, the noise model, re-measurement
of a winner, starved runs, duplicates and a retried baseline."""

from __future__ import annotations

from autoresearch.records import FailureKind, Status
from tests.engine.kit import InstantExecutor, KitTask, candidate, loop

# Seed 1 scores 0.2 above seed 0 for every model; repeats of one seed differ by ~0.01.
NOISY_BASE = candidate([0.5, 0.51], [0.7, 0.69], name="baseline")


def test_a_seed_is_compared_with_the_same_seed_of_the_incumbent(tmp_path) -> None:
    # +0.05 on each seed; seed 0 alone (0.55) is far below the incumbent's mean (0.6).
    research = loop(tmp_path, [candidate(0.55, 0.75, name="paired gain")],
                    task=KitTask(baseline=NOISY_BASE))
    research.baseline()
    research.run(max_experiments=1)
    kept = research.history()[1]
    assert kept.status is Status.KEPT, kept.reason
    assert "credibly better" in kept.reason and "mean +0.0500" in kept.reason


def test_a_clear_loss_stops_after_one_seed_and_a_clear_gain_needs_no_extra_seed(tmp_path):
    executor = InstantExecutor()
    research = loop(tmp_path, [candidate(0.3, 0.9, name="clear loss"),
                               candidate(0.9, 1.1, name="clear gain")],
                    task=KitTask(baseline=NOISY_BASE), executor=executor, max_seeds=6)
    research.baseline()
    research.run(max_experiments=2)
    _, loss, gain = research.history()
    assert loss.status is Status.DISCARDED and [r.seed for r in loss.seed_runs] == [0]
    assert "remaining seeds skipped" in loss.reason
    assert gain.status is Status.KEPT and sorted(gain.seed_scores) == [0, 1]
    assert len(executor.jobs) == 4 + 1 + 2 + 2  # baseline, loss, gain and its re-measurement


def test_a_near_tie_gets_more_seeds_up_to_max_seeds(tmp_path) -> None:
    base = candidate([0.5, 0.51], [0.7, 0.69], 0.6, 0.4, name="baseline")
    research = loop(tmp_path, [candidate(0.505, 0.7, 0.607, 0.401, name="near tie")],
                    task=KitTask(baseline=base), max_seeds=4)
    research.baseline()
    research.run(max_experiments=1)
    base, tie = research.history()
    extra = research.settings.seed_list[2:]
    assert len(extra) == 2 and not set(extra) & {0, 1}
    assert sorted(tie.seed_scores) == sorted(research.settings.seed_list)
    # The incumbent was measured on the drawn seeds first, so every seed is paired.
    assert set(extra) <= set(base.seed_scores)
    assert tie.status is Status.DISCARDED and "near tie after 4 seeds" in tie.reason


def test_min_delta_is_a_floor_on_a_credible_gain(tmp_path) -> None:
    gain = candidate(0.55, 0.75, name="credible +0.05")
    floor = loop(tmp_path / "floor", [gain], task=KitTask(baseline=NOISY_BASE), min_delta=0.1)
    floor.baseline()
    floor.run(max_experiments=1)
    assert floor.history()[1].status is Status.DISCARDED
    assert "< 0.1" in floor.history()[1].reason
    below = loop(tmp_path / "below", [gain], task=KitTask(baseline=NOISY_BASE), min_delta=0.01)
    below.baseline()
    below.run(max_experiments=1)
    assert below.history()[1].status is Status.KEPT


def test_the_noise_model_comes_from_baseline_repeats(tmp_path) -> None:
    research = loop(tmp_path, [])
    quiet = research.noise()
    assert quiet.sd is None and quiet.dof == 0
    research = loop(tmp_path / "noisy", [], task=KitTask(baseline=NOISY_BASE))
    research.baseline()
    noise = research.noise()
    assert noise.dof == 2 and abs(noise.sd - 0.01 / 2**0.5) < 1e-9
    # +0.01 on both seeds: credible when repeats of a seed agree, not when they differ by 0.01.
    calm = loop(tmp_path / "calm", [candidate(0.51, 0.71)],
                task=KitTask(baseline=candidate(0.5, 0.7, name="baseline")))
    calm.baseline()
    calm.run(max_experiments=1)
    shaky = loop(tmp_path / "shaky", [candidate(0.515, 0.705)],
                 task=KitTask(baseline=NOISY_BASE))
    shaky.baseline()
    shaky.run(max_experiments=1)
    assert calm.history()[1].status is Status.KEPT
    assert shaky.history()[1].status is Status.DISCARDED
    assert "s0 +0.0100, s1 +0.0100" in shaky.history()[1].reason


def test_a_winner_is_measured_again_and_dropped_when_the_gain_does_not_hold(tmp_path) -> None:
    lucky = candidate([0.56, 0.5], [0.76, 0.7], name="lucky first measurement")
    research = loop(tmp_path, [lucky], task=KitTask(baseline=NOISY_BASE))
    research.baseline()
    research.run(max_experiments=1)
    base, tried = research.history()
    assert [(r.seed, r.measurement) for r in tried.seed_runs] == [(0, 0), (1, 0), (0, 1), (1, 1)]
    assert tried.status is Status.DISCARDED
    assert "kept on its first measurement, not on re-measurement" in tried.reason
    assert research.strategy.best(research.history()).id == base.id


def test_a_close_keep_measures_the_incumbent_again(tmp_path) -> None:
    research = loop(tmp_path, [candidate(0.53, 0.73, name="close")],
                    task=KitTask(baseline=NOISY_BASE))
    research.baseline()
    research.run(max_experiments=1)
    base, close = research.history()
    assert close.status is Status.KEPT, close.reason
    assert sorted(r.measurement for r in base.seed_runs if r.seed == 0) == [0, 1, 2]
    clear = loop(tmp_path / "clear", [candidate(0.9, 1.1, name="clear")],
                 task=KitTask(baseline=NOISY_BASE))
    clear.baseline()
    clear.run(max_experiments=1)
    assert len(clear.history()[0].seed_runs) == 4  # its incumbent was not measured again


def test_a_starved_seed_is_run_again_and_never_judged(tmp_path) -> None:
    executor = InstantExecutor()
    research = loop(tmp_path, [candidate(0.3, 0.9, starve=(1,), name="starved once")],
                    executor=executor)
    research.baseline()
    research.run(max_experiments=1)
    tried = research.history()[1]
    runs = [(r.seed, r.measurement, r.failure) for r in tried.seed_runs]
    assert runs == [(0, 0, FailureKind.INTERFERED), (0, 1, None)]
    assert tried.status is Status.DISCARDED and "s0 -0.2000" in tried.reason


def test_a_seed_that_stays_starved_ends_interfered_and_a_later_run_retries_it(tmp_path):
    executor = InstantExecutor()
    code = candidate(0.9, 0.9, starve=(3,), name="starved")
    first = loop(tmp_path, [code], executor=executor)
    first.baseline()
    first.run(max_experiments=1)
    starved = first.history()[1]
    assert starved.status is Status.INTERFERED and starved.failure is FailureKind.INTERFERED
    assert "starved by other load on the machine 3 times (CPU share 20%)" in starved.reason
    assert sum(1 for j in executor.jobs if j.code == code) == 3  # the run and 2 retries
    second = loop(tmp_path, [], executor=executor)
    second.run(max_experiments=1)
    retried = second.history()[1]
    assert retried.status is Status.KEPT
    assert [r.measurement for r in retried.seed_runs if r.seed == 0] == [0, 1, 2, 3, 4]


def test_load_that_outlasts_the_retries_stops_the_run_instead_of_using_up_experiments(
        tmp_path) -> None:
    executor = InstantExecutor()
    research = loop(tmp_path, [candidate(0.9, 0.9, starve=(3,), name="starved"),
                               candidate(0.7, 0.7, name="never proposed")], executor=executor)
    research.baseline()
    reason = research.run(max_experiments=5)
    assert reason.startswith("the machine is busy: #1 was starved of CPU on every re-run")
    assert [e.status for e in research.history()] == [Status.KEPT, Status.INTERFERED]


def test_duplicates_of_the_parent_or_an_earlier_experiment_never_run(tmp_path) -> None:
    executor = InstantExecutor()
    base = KitTask().baseline
    reformatted = "# the same as the baseline\n" + base.replace("0.5", "5e-1").replace(
        " = ", "=")
    research = loop(tmp_path, [reformatted, candidate(0.6, 0.6, name="new"),
                               candidate(0.6, 0.6, name="new") + "# a comment\n"],
                    executor=executor)
    research.baseline()
    research.run(max_experiments=3)
    _, same, new, again = research.history()
    assert same.status is Status.DUPLICATE and same.failure is FailureKind.DUPLICATE
    assert "the same code as #0 (its parent)" in same.reason and not same.seed_runs
    assert new.status is Status.KEPT
    assert again.status is Status.DUPLICATE and "#2" in again.reason
    assert len(executor.jobs) == 4 + 4  # the baseline and `new`, nothing else


def test_a_failed_baseline_is_retried_by_the_next_run(tmp_path) -> None:
    executor = InstantExecutor()
    task = KitTask(baseline=candidate(0.5, 0.5, starve=(3,), name="baseline"))
    first = loop(tmp_path, [], task=task, executor=executor)
    assert first.baseline().status is Status.INTERFERED
    second = loop(tmp_path, [candidate(0.9, 0.9)], task=task, executor=executor)
    base = second.baseline()
    assert base.status is Status.KEPT and base.id == first.history()[0].id
    assert [r.failure for r in base.seed_runs if r.seed == 0][:3] == [FailureKind.INTERFERED] * 3
    second.run(max_experiments=1)
    assert second.history()[1].status is Status.KEPT


def test_the_incumbent_is_measured_again_every_few_experiments(tmp_path) -> None:
    executor = InstantExecutor()
    research = loop(tmp_path, [candidate(0.5, 0.5, name=f"same {i}") for i in range(6)],
                    executor=executor)
    research.baseline()
    research.run(max_experiments=6)
    base = research.history()[0]
    assert [sum(1 for r in base.seed_runs if r.seed == s) for s in (0, 1)] == [3, 3]
    # the refresh came after the fifth experiment judged against it, before the sixth's seeds
    order = [j.code for j in executor.jobs]
    sixth = order.index(candidate(0.5, 0.5, name="same 5"))
    assert order[sixth - 1] == base.code and order[sixth + 1] == base.code
    assert research.noise().dof == 4  # every refresh is one more repeat
