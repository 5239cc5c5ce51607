"""Strategy, acceptance and the offline proposer on synthetic records (no training)."""

from __future__ import annotations

import math
import random
import statistics
from dataclasses import replace

import pytest

from autoresearch.analysis.noise import Noise
from autoresearch.errors import ProposalError
from autoresearch.knobs import parse_knobs
from autoresearch.records import Experiment, FailureKind, Mode, Proposal, SeedRun, Status
from autoresearch.search import OfflineProposer, ProposalContext
from autoresearch.search.acceptance import Acceptance, failure_of
from autoresearch.search.offline import parse_values
from autoresearch.search.strategy import Strategy
from autoresearch.tasks import Direction, Metric, get_task

LOW = Metric("val_bpb", Direction.MIN)
HIGH = Metric("accuracy", Direction.MAX)
CODE = get_task("shakespeare").baseline_source()


def exp(number: int, status: Status, metric: float | None, code: str = CODE,
        mode: Mode = Mode.INCREMENTAL) -> Experiment:
    runs = () if metric is None else (SeedRun(seed=42, failure=None, metric=metric),)
    proposal = Proposal(code=code, description=f"e{number}", category="hyperparameter",
                        mode=mode, parent_id=None, proposer="test", knobs=parse_values(code))
    return Experiment(id=number + 100, study_id=1, number=number, proposal=proposal, diff="",
                      status=status, seed_runs=runs)


def test_strategy_ranks_by_direction_and_samples_top3_70_20_10():
    history = [exp(0, Status.KEPT, 3.0, mode=Mode.BASELINE), exp(1, Status.KEPT, 2.5),
               exp(2, Status.KEPT, 2.8), exp(3, Status.DISCARDED, 1.0), exp(4, Status.KEPT, 2.9)]
    strategy = Strategy(LOW)
    assert [e.number for e in strategy.ranked(history)] == [1, 2, 4, 0]
    assert Strategy(HIGH).ranked(history)[0].number == 0
    rng = random.Random(0)
    picks = [strategy.plan(history, 6, rng).parent.number for _ in range(3000)]
    assert picks.count(1) / 3000 == pytest.approx(0.7, abs=0.04)
    assert picks.count(2) / 3000 == pytest.approx(0.2, abs=0.04)
    assert picks.count(4) / 3000 == pytest.approx(0.1, abs=0.03)


def test_every_fifth_is_exploration_and_five_discards_diversify():
    history = [exp(0, Status.KEPT, 3.0, mode=Mode.BASELINE), exp(1, Status.KEPT, 2.5)]
    strategy = Strategy(LOW)
    assert strategy.plan(history, 5, random.Random(0)).mode is Mode.EXPLORATION
    history += [exp(i, Status.DISCARDED, 2.6) for i in range(2, 7)]
    plan = strategy.plan(history, 7, random.Random(0))
    assert plan.mode is Mode.DIVERSIFICATION and plan.parent.number != 1


def scored(number: int, *scores: float) -> Experiment:
    runs = tuple(SeedRun(seed=s, failure=None, metric=m) for s, m in zip((42, 137), scores,
                                                                          strict=False))
    return replace(exp(number, Status.RUNNING, None), seed_runs=runs)


def test_the_mean_rule_of_deterministic_tasks_is_paired_and_short_circuits():
    accept = Acceptance(LOW, min_delta=0.01, sequential=False)
    incumbent, quiet = scored(0, 3.0, 2.0), Noise(None, 0)
    # Seed 42 is worse than its pair: the rest is skipped, even though 3.1 < 2.5 (the mean).
    worse = accept.judge(scored(1, 3.1), incumbent, quiet, 2, 2)
    assert worse is not None and worse.status is Status.DISCARDED and "skipped" in worse.reason
    assert accept.judge(scored(1, 2.9), incumbent, quiet, 2, 2) is None  # run seed 137
    small = accept.judge(scored(1, 2.995, 1.998), incumbent, quiet, 2, 2)
    assert small is not None and small.status is Status.DISCARDED  # gain < min_delta
    kept = accept.judge(scored(1, 2.9, 1.95), incumbent, quiet, 2, 2)
    assert kept is not None and kept.status is Status.KEPT and "s42 +0.1000" in kept.reason
    high = Acceptance(HIGH, sequential=False).judge(scored(1, 0.9), scored(0, 0.8), quiet, 1, 1)
    assert high is not None and high.status is Status.KEPT


def test_a_starved_run_is_not_the_candidates_failure():
    starved = SeedRun(seed=42, failure=FailureKind.INTERFERED, cpu_share=0.1)
    assert failure_of([starved]) is None
    crashed = failure_of([starved, SeedRun(seed=137, failure=FailureKind.OOM, reason="big")])
    assert crashed is not None and crashed.status is Status.OOM
    assert crashed.reason == "seed 137: big"


def context(mode: Mode, history: list[Experiment], number: int) -> ProposalContext:
    return ProposalContext(task=get_task("shakespeare"), metric=LOW, mode=mode,
                           parent=history[-1], history=tuple(history), number=number)


def test_offline_proposer_edits_knobs_with_a_category_and_never_repeats():
    history = [exp(0, Status.KEPT, 3.0, mode=Mode.BASELINE)]
    proposer = OfflineProposer(seed=1)
    seen = set()
    for number in range(1, 25):
        mode = Mode.EXPLORATION if number % 5 == 0 else Mode.INCREMENTAL
        proposal = proposer.propose(context(mode, history, number))
        knobs = parse_knobs(proposal.code)
        changed = {n for n, k in knobs.items() if proposal.knobs[n] != history[0].proposal.knobs[n]}
        assert changed and all(knobs[n].contains(knobs[n].value) for n in knobs)
        assert proposal.category in {"hyperparameter", "architectural", "optimizer",
                                     "regularization"}
        assert " -> " in proposal.description
        key = tuple(sorted(proposal.knobs.items()))
        assert key not in seen
        seen.add(key)
        history.append(exp(number, Status.DISCARDED, 3.0 + number / 100, code=proposal.code))
    # Past the start-up phase the proposals come from TPE fitted on the history.
    assert proposal.proposer == ("offline:uniform" if mode is Mode.EXPLORATION else "offline:tpe")
    assert "TPE" in proposal.hypothesis or mode is Mode.EXPLORATION


ONE_KNOB = "import harness\nLEARNING_RATE = 1e-3  # search: log 1e-5..1e-1\n"


def _lr(history: list[Experiment], lr: float, status: Status = Status.DISCARDED) -> Experiment:
    """An experiment at `lr` scoring its log-distance from the optimum 1e-2 (None: failed)."""
    code = ONE_KNOB.replace("1e-3 ", f"{lr!r} ")
    metric = None if status is Status.CRASHED else abs(math.log10(lr) + 2)
    return exp(len(history), status, metric, code=code)


def test_tpe_takes_over_after_eight_scored_experiments_not_eight_attempts():
    history = [_lr([], 1e-3)]
    history = [replace(history[0], status=Status.KEPT,
                       proposal=replace(history[0].proposal, mode=Mode.BASELINE))]
    rng = random.Random(0)
    for _ in range(6):
        history.append(_lr(history, 10 ** rng.uniform(-5, -1)))
    for _ in range(5):  # failures tell TPE nothing: they do not end the start-up phase
        history.append(_lr(history, 10 ** rng.uniform(-5, -1), Status.CRASHED))
    proposer = OfflineProposer(seed=0)
    ctx = ProposalContext(task=get_task("shakespeare"), metric=LOW, mode=Mode.INCREMENTAL,
                          parent=history[0], history=tuple(history), number=len(history))
    assert proposer.propose(ctx).proposer == "offline:local"
    history.append(_lr(history, 10 ** rng.uniform(-5, -1)))  # the 8th scored one
    ctx = replace(ctx, history=tuple(history), number=len(history))
    tpe = proposer.propose(ctx)
    assert tpe.proposer == "offline:tpe" and "TPE" in tpe.hypothesis


def test_tpe_proposals_concentrate_where_the_history_scored_best():
    """Uniform draws over 1e-5..1e-1 land 1.25 decades from the optimum on average; TPE fitted
    on 24 scored draws must do clearly better (a sampler that ignored the history would not)."""
    rng = random.Random(1)
    base = _lr([], 1e-3)
    history = [replace(base, status=Status.KEPT,
                       proposal=replace(base.proposal, mode=Mode.BASELINE))]
    for _ in range(24):
        history.append(_lr(history, 10 ** rng.uniform(-5, -1)))
    distances = []
    for number in range(25, 35):
        ctx = ProposalContext(task=get_task("shakespeare"), metric=LOW, mode=Mode.INCREMENTAL,
                              parent=history[0], history=tuple(history), number=number)
        proposal = OfflineProposer(seed=number).propose(ctx)
        assert proposal.proposer == "offline:tpe"
        distances.append(abs(math.log10(proposal.knobs["LEARNING_RATE"]) + 2))
    assert statistics.fmean(distances) < 0.6


def test_offline_proposer_is_deterministic_and_explains_missing_knobs():
    history = [exp(0, Status.KEPT, 3.0, mode=Mode.BASELINE)]
    a = OfflineProposer(seed=3).propose(context(Mode.INCREMENTAL, history, 1))
    b = OfflineProposer(seed=3).propose(context(Mode.INCREMENTAL, history, 1))
    assert a.code == b.code
    bare = [exp(0, Status.KEPT, 3.0, code="import harness\nX = 1\n", mode=Mode.BASELINE)]
    with pytest.raises(ProposalError, match="no `# search:` annotated knobs"):
        OfflineProposer().propose(context(Mode.INCREMENTAL, bare, 1))


def test_without_local_steps_first_moves_redraw_a_knob_over_its_whole_range():
    base = _lr([], 1e-3)
    history = [replace(base, status=Status.KEPT,
                       proposal=replace(base.proposal, mode=Mode.BASELINE))]
    drawn = []
    for number in range(1, 21):
        ctx = ProposalContext(task=get_task("shakespeare"), metric=LOW, mode=Mode.INCREMENTAL,
                              parent=history[0], history=tuple(history), number=number)
        proposal = OfflineProposer(seed=number, local=False).propose(ctx)
        assert proposal.proposer == "offline:uniform" and "whole range" in proposal.hypothesis
        drawn.append(math.log10(proposal.knobs["LEARNING_RATE"]))
    # Local steps stay within a factor of 2.3 of 1e-3 (0.72 decades); redraws span 1e-5..1e-1.
    assert max(drawn) - min(drawn) > 2.5
    local = OfflineProposer(seed=1).propose(ProposalContext(
        task=get_task("shakespeare"), metric=LOW, mode=Mode.INCREMENTAL, parent=history[0],
        history=tuple(history), number=1))
    assert local.proposer == "offline:local"
