"""The coordinator: rounds of EXPLORE / EXPLOIT / COMBINE / NARROW over a Backend, pruning
after the first round, then LLM rounds when a slot proposer is given. Every combo is an
experiment of the store (written `running` before it runs, finished after), so a killed run
resumes without re-running or overwriting anything, and `status` / `export` just work.
"""

from __future__ import annotations

import math
import random
import time
from dataclasses import replace

from autoresearch.analysis.combo import Combo, combo_of
from autoresearch.analysis.pipeline import interactions, pruned, slot_rankings
from autoresearch.analysis.study import best_of
from autoresearch.engine.loop import Observer, unified_diff
from autoresearch.errors import ProposalError
from autoresearch.pipeline.backend import (
    Backend,
    Outcome,
    as_outcome,
    metric_of,
    render,
    run_batch,
    search_space_of,
)
from autoresearch.pipeline.modes import Candidate, Planner, Skips
from autoresearch.pipeline.proposer import SlotContext, SlotProposer
from autoresearch.pipeline.space import Implementation, SearchSpace
from autoresearch.records import Experiment, FailureKind, LLMUsage, Mode, Proposal, SeedRun, Status
from autoresearch.search.acceptance import Acceptance
from autoresearch.storage import Store, Study

PROPOSER = "pipeline"


class Coordinator:
    def __init__(self, backend: Backend, budget_per_round: int = 10, *,
                 store: Store | None = None, study: Study | None = None,
                 min_delta: float = 0.0, prune_margin: float | None = None, seed: int = 0,
                 slot_proposer: SlotProposer | None = None, observer: Observer | None = None,
                 max_experiments: int | None = None, deadline: float | None = None) -> None:
        if budget_per_round < 1:
            raise ValueError("budget_per_round must be at least 1")
        self.backend, self.budget = backend, budget_per_round
        self.metric = metric_of(backend)
        self.space: SearchSpace = search_space_of(backend)
        self.store = store or Store(":memory:")
        self.study = study or self.store.study(
            getattr(backend, "task_name", f"custom:{type(backend).__name__}"), self.metric,
            float(getattr(backend, "budget_seconds", 0.0)),
            str(getattr(backend, "data_hash", "custom")),
            str(getattr(backend, "data_source", type(backend).__name__)))
        self.acceptance = Acceptance(self.metric, min_delta)
        self.prune_margin, self.slot_proposer = prune_margin, slot_proposer
        self.observer = observer or Observer()
        self.max_experiments, self.deadline = max_experiments, deadline
        self.rng = random.Random(seed)
        self.planner = Planner(self.space, self.metric, self.rng)

    # -- public -------------------------------------------------------------------------
    def history(self) -> list[Experiment]:
        return self.store.experiments(self.study)

    def best(self) -> Experiment | None:
        return best_of(self.history(), self.metric)

    def run(self, n_rounds: int = 4, llm_rounds: int = 3) -> list[Experiment]:
        self.baseline()
        self.resume_interrupted()
        self.score_missing_holdouts()
        for _ in range(n_rounds):
            if not self._left():
                break
            self.round()
        for _ in range(llm_rounds if self.slot_proposer is not None else 0):
            if not self._left():
                break
            self.llm_round()
        return self.history()

    def baseline(self) -> Experiment:
        history = self.history()
        existing = next((e for e in history if e.proposal.mode is Mode.BASELINE), None)
        if existing is not None and existing.status.finished:
            return existing
        if existing is not None:
            combo = combo_of(existing) or self.space.default_combo()
            return self._execute([(existing, combo)], baseline=True)[0]
        candidate = Candidate(self.space.default_combo(), None,
                              "the first implementation of every slot")
        return self._run([candidate], Mode.BASELINE, baseline=True)[0]

    def resume_interrupted(self) -> list[Experiment]:
        """Finish the combos a killed run left running; nothing finished is run again."""
        todo = []
        for e in self.history():
            combo = combo_of(e)
            if e.status.finished or e.proposal.mode is Mode.BASELINE or combo is None:
                continue
            if all(self.space.get(s, i) is not None for s, i in combo.slots.items()):
                todo.append((e, combo))
            else:
                self._close(e, Status.CRASHED, FailureKind.CRASH, "interrupted, and its "
                            "implementation is not in this session's search space", [])
        return self._execute(todo) if todo else []

    def pruned(self) -> Skips:
        history = self.history()
        items = pruned(history, self.metric, self.prune_margin, self.space.model_slot or None)
        if self._done(history) < self.budget:  # families are judged after the first round
            items = [p for p in items if p.kind == "crashes"]
        return Skips.of(items)

    def round(self) -> list[Experiment]:
        history = self.history()
        first = self._done(history) < self.budget
        budget = min(self.budget, self._left())
        gaps = len(self.planner.coverage_gaps(history, self.pruned()))
        explore = min(gaps, budget if first else budget // 2)
        rest = budget - explore
        shares = [(Mode.EXPLORE, explore), (Mode.EXPLOIT, math.ceil(rest / 2)),
                  (Mode.COMBINE, rest // 4), (Mode.NARROW, rest - math.ceil(rest / 2) - rest // 4)]
        done: list[Experiment] = []
        carry = 0
        for mode, share in [*shares, (Mode.EXPLORE, 0)]:
            want = min(share + carry, self._left())
            if want <= 0:
                continue
            history = self.history()
            seen = {c.key for e in history if (c := combo_of(e)) is not None}
            candidates = self.planner.plan(mode, history, want, self.pruned(), seen)
            carry = want - len(candidates)
            if candidates:
                done += self._run(candidates, mode)
        return done

    def llm_round(self) -> Experiment | None:
        assert self.slot_proposer is not None
        history = self.history()
        best = best_of(history, self.metric)
        best_combo = combo_of(best) if best is not None else None
        if best is None or best_combo is None:
            return None
        number = max((e.number for e in history), default=0) + 1
        context = SlotContext(
            metric=self.metric, space=self.space, best=best, best_combo=best_combo,
            rankings=tuple(slot_rankings(history, self.metric)),
            interactions=tuple(interactions(history, self.metric)[:10]),
            pruned=tuple(pruned(history, self.metric, self.prune_margin,
                                 self.space.model_slot or None)),
            history=tuple(history), number=number)
        try:
            proposal = self.slot_proposer.propose(context)
        except ProposalError as exc:
            failed = Proposal(code=best.code, description="failed slot proposal",
                              category="none", mode=Mode.LLM, parent_id=best.id,
                              proposer=self.slot_proposer.name, usage=exc.usage)
            record = self.store.add_experiment(self.study, failed, "", [])
            return self._close(record, Status.INVALID, FailureKind.PROPOSAL, str(exc), [])
        impl = Implementation(proposal.slot, f"llm_{number}", "llm", (),
                              proposal.description, code=proposal.code)
        adder = getattr(self.backend, "add_implementation", None)
        if callable(adder):
            adder(impl)
        self.space = self.space.with_implementation(impl)
        self.planner.space = self.space
        combo = best_combo.replace(impl.slot, impl.name, {}, "llm")
        candidate = Candidate(combo, best, proposal.hypothesis or proposal.description)
        return self._run([candidate], Mode.LLM, proposer=self.slot_proposer.name,
                         usage=proposal.usage)[0]

    # -- internals ----------------------------------------------------------------------
    def _done(self, history: list[Experiment]) -> int:
        return sum(1 for e in history if e.proposal.mode is not Mode.BASELINE)

    def _left(self) -> int:
        if self.deadline is not None and time.monotonic() >= self.deadline:
            return 0
        if self.max_experiments is None:
            return 10**9
        return max(0, self.max_experiments - self._done(self.history()))

    def _run(self, candidates: list[Candidate], mode: Mode, baseline: bool = False,
             proposer: str = PROPOSER, usage: LLMUsage | None = None) -> list[Experiment]:
        records = []
        for c in candidates:
            code = render(self.backend, c.combo)
            parent = c.parent
            diff = unified_diff(parent.code, code, f"experiment-{parent.number}",
                                "candidate") if parent is not None else ""
            changed = c.combo.differences(combo_of(parent)) if parent is not None \
                and combo_of(parent) is not None else []
            proposal = Proposal(
                code=code, description=c.combo.describe(),
                category="+".join(changed) if changed else ("baseline" if baseline else "combo"),
                mode=mode, parent_id=parent.id if parent is not None else None,
                proposer="baseline" if baseline else proposer, hypothesis=c.hypothesis,
                knobs=c.combo.knobs(), usage=usage)
            records.append((self.store.add_experiment(self.study, proposal, diff, []), c.combo))
        return self._execute(records, baseline=baseline)

    def _execute(self, records: list[tuple[Experiment, Combo]], baseline: bool = False
                 ) -> list[Experiment]:
        """Run a batch (all recorded `running` first), then settle each result in order."""
        outcomes = run_batch(self.backend, [combo for _, combo in records])
        finished = []
        kept = []
        for (record, combo), outcome in zip(records, outcomes, strict=True):
            self.observer.experiment_started(record)  # announced with its result: readable
            runs = _seed_runs(outcome)
            for run in runs:
                self.store.add_seed_run(record.id, run)
            record = replace(record, seed_runs=tuple(runs))
            for run in runs:
                self.observer.seed_finished(record, run)
            best = None if baseline else self._best_metric()
            verdict = self.acceptance.decide(runs, best, len(runs))
            status = verdict.status
            if baseline and verdict.failure is None:
                status = Status.KEPT
            done = self._close(record, status, verdict.failure, verdict.reason, runs)
            finished.append(done)
            if done.status is Status.KEPT:
                kept.append((done, combo))
        if kept:
            self._score_holdout(kept)
        return [self.store.experiment(e.id) or e for e in finished]

    def _close(self, record: Experiment, status: Status, failure: FailureKind | None,
               reason: str, runs: list[SeedRun]) -> Experiment:
        done = replace(record, seed_runs=tuple(runs)).finish(status, failure, reason,
                                                             time.time())
        self.store.finish_experiment(done)
        self.observer.experiment_finished(done, self.best())
        return done

    def _best_metric(self) -> float | None:
        best = self.best()
        return best.metric_mean if best is not None else None

    def _score_holdout(self, kept: list[tuple[Experiment, Combo]]) -> None:
        """The sealed holdout, for kept combos only; a failure is noted on the seed runs."""
        many = getattr(self.backend, "score_holdouts", None)
        one = getattr(self.backend, "score_holdout", None)
        if callable(many):
            answers = list(many([combo for _, combo in kept]))
        elif callable(one):
            answers = [one(combo) for _, combo in kept]
        else:
            return
        for (experiment, _), answer in zip(kept, answers, strict=True):
            if answer is None:
                continue
            outcome = as_outcome(answer)
            if outcome.scores:
                runs = tuple(replace(r, test_metric=outcome.scores[0])
                             for r in experiment.seed_runs)
            else:
                kind = outcome.failure.value if outcome.failure else "failed"
                note = {"holdout_failure": f"{kind}: {outcome.reason}"[:300]}
                runs = tuple(replace(r, extra={**r.extra, **note}) for r in experiment.seed_runs)
            for run in runs:
                self.store.add_seed_run(experiment.id, run)
            self.store.finish_experiment(replace(experiment, seed_runs=runs))

    def score_missing_holdouts(self) -> None:
        """Kept combos a killed run left without their holdout figure (once: failures stay)."""
        todo = [(e, c) for e in self.history() if e.status is Status.KEPT and e.test_mean is None
                and (c := combo_of(e)) is not None
                and not any("holdout_failure" in r.extra for r in e.seed_runs)
                and all(self.space.get(s, i) is not None for s, i in c.slots.items())]
        if todo:
            self._score_holdout(todo)


def _seed_runs(outcome: Outcome) -> list[SeedRun]:
    common = {"wall_seconds": outcome.wall_seconds, "peak_rss_mb": outcome.peak_rss_mb,
              "sandbox": outcome.sandbox}
    if outcome.failure is not None or not outcome.scores:
        failure = outcome.failure or FailureKind.NO_RESULT
        extra = {"slot": outcome.slot} if outcome.slot else {}
        return [SeedRun(seed=outcome.seeds[0] if outcome.seeds else 0, failure=failure,
                        reason=outcome.reason or "no score", log_tail=outcome.log_tail,
                        startup_seconds=outcome.startup_seconds, extra=extra, **common)]
    seeds = outcome.seeds or tuple(range(len(outcome.scores)))
    per = len(outcome.folds) // len(outcome.scores) if outcome.folds else 0
    runs = []
    for i, (seed, score) in enumerate(zip(seeds, outcome.scores, strict=True)):
        extra = dict(outcome.extra or {})
        if per:
            extra["folds"] = list(outcome.folds[i * per:(i + 1) * per])
        runs.append(SeedRun(
            seed=seed, failure=None, metric=score, extra=extra,
            startup_seconds=outcome.startup_seconds if i == 0 else 0.0,
            wall_seconds=outcome.wall_seconds / len(outcome.scores),
            peak_rss_mb=outcome.peak_rss_mb, sandbox=outcome.sandbox,
            train_seconds=outcome.wall_seconds / len(outcome.scores)))
    return runs
