"""The research loop. Components come in; data flows Strategy -> Proposer -> Validator ->
Executor -> Acceptance -> Store, and every seed run is committed as soon as it finishes.

Several experiments can be in flight at once (one per worker slot); the seeds of one
experiment run in order so that a clearly worse first seed saves the second. Every decision
(keep or discard, run another seed) is made against the best known when the result arrives,
so results arriving out of order stay consistent. A task with a sealed holdout scored apart
from the seeds (tabular) gets it scored for a kept experiment before the verdict is committed,
so a finished experiment never changes.

The study's history is read from the store once; after that the loop keeps it up to date
itself, so the cost per experiment does not grow with the study.
"""

from __future__ import annotations

import difflib
import random
import time
import traceback
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass, replace

from autoresearch.errors import AutoresearchError, CostLimitReached, ProposalError
from autoresearch.execution import Executor
from autoresearch.records import Experiment, FailureKind, Mode, Proposal, SeedRun, Status
from autoresearch.sandbox import Job, JobOptions
from autoresearch.search.acceptance import Acceptance, Verdict
from autoresearch.search.notes import notes
from autoresearch.search.offline import parse_values
from autoresearch.search.proposer import ProposalContext, Proposer
from autoresearch.search.strategy import Plan, SearchStrategy
from autoresearch.storage import Store, Study
from autoresearch.tasks import PreparedData, Task

HOLDOUT_SEED = -1  # the seed a holdout job reports under (it is no seed of the study)


@dataclass
class _Flight:
    """An experiment between validation and its verdict."""

    experiment: Experiment
    baseline: bool = False
    seed: int = -1  # the seed running now
    verdict: Verdict | None = None  # decided, waiting for the holdout score


@dataclass(frozen=True)
class RunSettings:
    job: JobOptions
    seeds: tuple[int, ...] = (42, 137)
    search_seed: int = 0


class Observer:
    """Hooks for live progress; the default does nothing."""

    def experiment_started(self, experiment: Experiment) -> None: ...

    def seed_finished(self, experiment: Experiment, run: SeedRun) -> None: ...

    def experiment_finished(self, experiment: Experiment, best: Experiment | None) -> None: ...


def unified_diff(old: str, new: str, old_name: str = "parent", new_name: str = "candidate") -> str:
    return "".join(difflib.unified_diff(old.splitlines(keepends=True),
                                        new.splitlines(keepends=True), old_name, new_name))


class ResearchLoop:
    def __init__(self, *, task: Task, data: PreparedData, store: Store, study: Study,
                 proposer: Proposer, strategy: SearchStrategy, acceptance: Acceptance,
                 executor: Executor, settings: RunSettings,
                 observer: Observer | None = None) -> None:
        self.task, self.data, self.store, self.study = task, data, store, study
        self.proposer, self.strategy, self.acceptance = proposer, strategy, acceptance
        self.executor, self.settings = executor, settings
        self.observer = observer or Observer()
        self._known: dict[int, Experiment] | None = None
        # The best kept mean so far, readable from any thread (an executor that stops hopeless
        # work early compares against it).
        self.best_score: float | None = None

    # -- public -------------------------------------------------------------------------
    def history(self) -> list[Experiment]:
        """Every experiment of the study, oldest first (read from the store once)."""
        if self._known is None:
            self._known = {e.id: e for e in self.store.experiments(self.study)}
            for e in self._known.values():
                self._note_best(e)
        return sorted(self._known.values(), key=lambda e: e.number)

    def baseline(self) -> Experiment:
        """The study's baseline, trained now if the store has none finished."""
        existing = next((e for e in self.history() if e.proposal.mode is Mode.BASELINE), None)
        if existing is not None and existing.status.finished:
            return existing
        code = self.task.baseline_source()
        knobs = getattr(self.task, "baseline_knobs", None)
        proposal = Proposal(code=code, description="baseline", category="baseline",
                            mode=Mode.BASELINE, parent_id=None, proposer="baseline",
                            knobs=knobs() if callable(knobs) else parse_values(code))
        return self._evaluate(existing or self._record(proposal, ""), baseline=True)

    def step(self) -> Experiment:
        """Propose one experiment and run it to its verdict (bench/overhead.py times these)."""
        plans = self._plans(frozenset(), 1)
        if not plans:
            raise AutoresearchError("the strategy has nothing left to try")
        return self._evaluate(self._propose(plans[0]))

    def run(self, max_experiments: int, time_budget: float | None = None,
            workers: int = 1) -> str:
        """Keep up to `workers` experiments in flight until a limit is reached.

        Experiments a killed run left unfinished are finished first, without re-running the
        seeds they had finished. Returns why the run stopped.
        """
        started = time.monotonic()
        durations: list[float] = []
        flights: dict[Future[SeedRun], _Flight] = {}
        began: dict[int, float] = {}
        for experiment in self.history():
            if not experiment.status.finished and experiment.proposal.mode is not Mode.BASELINE:
                self._launch(self._begin(experiment), flights, began)
        reason = ""
        while True:
            while not reason and len(flights) < workers:
                reason = self._limit(max_experiments, time_budget, started, durations)
                if reason:
                    break
                busy = frozenset(f.experiment.proposal.parent_id or -1 for f in flights.values())
                room = min(workers - len(flights), max_experiments - self._count())
                try:
                    plans = self._plans(busy, room)
                    if not plans:
                        reason = "the strategy has nothing left to try"
                    for plan in plans:
                        self._launch(self._begin(self._propose(plan)), flights, began)
                except CostLimitReached as stop:
                    reason = str(stop)
            if not flights:
                return reason or "nothing left to run"
            done, _ = wait(list(flights), return_when=FIRST_COMPLETED)
            for future in [f for f in flights if f in done]:  # in submission order: repeatable
                flight = flights.pop(future)
                self._absorb(flight, _result(future, flight))
                finished = self._launch(flight, flights, began)
                if finished is not None and finished.id in began:
                    durations.append(time.monotonic() - began.pop(finished.id))

    # -- internals ----------------------------------------------------------------------
    def _count(self) -> int:
        return sum(1 for e in self.history() if e.proposal.mode is not Mode.BASELINE)

    def _limit(self, max_experiments: int, time_budget: float | None, started: float,
               durations: list[float]) -> str:
        count = self._count()
        if count >= max_experiments:
            return (f"the study holds {count} experiments (--max-experiments "
                    f"{max_experiments}); raise it to continue")
        if time_budget is not None:
            left = time_budget - (time.monotonic() - started)
            if left <= (max(durations) if durations else 0.0):
                return f"time budget reached ({time_budget:g}s)"
        return ""

    def _plans(self, busy: frozenset[int], count: int) -> list[Plan]:
        history = self.history()
        number = max((e.number for e in history), default=0) + 1
        rng = random.Random(f"{self.settings.search_seed}:plan:{number}")
        return self.strategy.plans(history, number, rng, busy, count)

    def _propose(self, plan: Plan) -> Experiment:
        """Propose and record the plan's experiment (a failed proposal is recorded too)."""
        history = self.history()
        number = max((e.number for e in history), default=0) + 1
        context = ProposalContext(task=self.task, metric=self.study.metric, mode=plan.mode,
                                  parent=plan.parent, history=tuple(history), number=number,
                                  suggestion=plan.suggestion, note=plan.note)
        try:
            proposal = self.proposer.propose(context)
        except ProposalError as exc:
            failed = Proposal(code=plan.parent.code, description="failed proposal",
                              category="none", mode=plan.mode, parent_id=plan.parent.id,
                              proposer=exc.proposer or self.proposer.name, usage=exc.usage)
            experiment = self._record(failed, "")
            return self._close(experiment, Status.INVALID, FailureKind.PROPOSAL, str(exc))
        parent = next((e for e in history if e.id == proposal.parent_id), plan.parent)
        diff = unified_diff(parent.code, proposal.code, f"experiment-{parent.number}",
                            f"experiment-{number}")
        return self._record(proposal, diff)

    def _record(self, proposal: Proposal, diff: str) -> Experiment:
        experiment = self.store.add_experiment(self.study, proposal, diff,
                                               list(self.settings.seeds))
        self._keep(experiment)
        return experiment

    def _keep(self, experiment: Experiment) -> None:
        self.history()  # loaded before the first change
        assert self._known is not None
        self._known[experiment.id] = experiment
        self._note_best(experiment)

    def _note_best(self, experiment: Experiment) -> None:
        mean = experiment.metric_mean
        if experiment.status is Status.KEPT and mean is not None and \
                self.study.metric.is_better(mean, self.best_score):
            self.best_score = mean

    def _close(self, experiment: Experiment, status: Status, failure: FailureKind | None,
               reason: str) -> Experiment:
        done = experiment.finish(status, failure, reason, time.time())
        self.store.finish_experiment(done)
        self._keep(done)
        self.observer.experiment_finished(done, self.strategy.best(self.history()))
        return done

    def _begin(self, experiment: Experiment, baseline: bool = False) -> _Flight | Experiment:
        """Validate; an invalid or already decided experiment comes back as it ends."""
        if experiment.status.finished:
            return experiment
        self.observer.experiment_started(experiment)
        check = self.task.validate(experiment.code)
        if check.failure is not None:
            return self._close(experiment, check.failure.status, check.failure, check.reason)
        runs = tuple(r for r in experiment.seed_runs if r.seed in self.settings.seeds)
        return _Flight(replace(experiment, seed_runs=runs), baseline)

    def _next_seed(self, flight: _Flight) -> int | None:
        runs = list(flight.experiment.seed_runs)
        best = None if flight.baseline else self._best_metric()
        for seed in self.settings.seeds:
            if any(r.seed == seed for r in runs):
                continue
            if runs and not self.acceptance.worth_more_seeds(runs, best):
                return None
            return seed
        return None

    def _next_job(self, flight: _Flight) -> Job | Experiment:
        """The flight's next job: a seed, then the holdout of a kept experiment; or, when
        nothing is left to run, the experiment as decided."""
        if flight.verdict is None:
            seed = self._next_seed(flight)
            if seed is not None:
                flight.seed = seed
                return self.task.seed_job(flight.experiment.code, seed, self.data,
                                          self.settings.job)
            flight.verdict = self._verdict(flight)
            holdout = getattr(self.task, "holdout_job", None)
            if flight.verdict.status is Status.KEPT and callable(holdout):
                # Decided: later decisions compare against it while its holdout is scored.
                self._keep(replace(flight.experiment, status=Status.KEPT))
                flight.seed = HOLDOUT_SEED
                return holdout(flight.experiment.code, self.data, self.settings.job)
        return self._close(flight.experiment, flight.verdict.status, flight.verdict.failure,
                           flight.verdict.reason)

    def _launch(self, flight: _Flight | Experiment, flights: dict[Future[SeedRun], _Flight],
                began: dict[int, float]) -> Experiment | None:
        """Submit the flight's next job, or decide it; returns the experiment once decided."""
        if isinstance(flight, Experiment):
            return flight
        began.setdefault(flight.experiment.id, time.monotonic())
        job = self._next_job(flight)
        if isinstance(job, Experiment):
            return job
        flights[self.executor.submit(job)] = flight
        return None

    def _absorb(self, flight: _Flight, run: SeedRun) -> None:
        if flight.verdict is not None:
            return self._absorb_holdout(flight, run)
        self.store.add_seed_run(flight.experiment.id, run)
        flight.experiment = replace(flight.experiment,
                                    seed_runs=(*flight.experiment.seed_runs, run))
        self._keep(flight.experiment)
        self.observer.seed_finished(flight.experiment, run)

    def _absorb_holdout(self, flight: _Flight, run: SeedRun) -> None:
        """The holdout score goes on every seed run (it is the experiment's test figure); a
        failure is noted on them, and the verdict stands."""
        if run.ok:
            runs = tuple(replace(r, test_metric=run.metric) for r in flight.experiment.seed_runs)
        else:
            kind = run.failure.value if run.failure else "failed"
            note = {"holdout_failure": f"{kind}: {run.reason}"[:300]}
            runs = tuple(replace(r, extra={**r.extra, **note})
                         for r in flight.experiment.seed_runs)
        for seed_run in runs:
            self.store.add_seed_run(flight.experiment.id, seed_run)
        flight.experiment = replace(flight.experiment, seed_runs=runs)

    def _verdict(self, flight: _Flight) -> Verdict:
        runs = list(flight.experiment.seed_runs)
        best = None if flight.baseline else self._best_metric()
        verdict = self.acceptance.decide(runs, best, len(self.settings.seeds))
        if flight.baseline and verdict.failure is None:
            verdict = replace(verdict, status=Status.KEPT)
        parent_id = flight.experiment.proposal.parent_id
        parent = next((e for e in self.history() if e.id == parent_id), None)
        found = notes(runs, parent, self.study.metric.name)
        if found and verdict.failure is None:
            verdict = replace(verdict, reason="; ".join([verdict.reason, *found]))
        return verdict

    def _evaluate(self, experiment: Experiment, baseline: bool = False) -> Experiment:
        """One experiment start to verdict, its jobs one after another."""
        flight = self._begin(experiment, baseline)
        while isinstance(flight, _Flight):
            job = self._next_job(flight)
            if isinstance(job, Experiment):
                return job
            self._absorb(flight, _result(self.executor.submit(job), flight))
        return flight

    def _best_metric(self) -> float | None:
        best = self.strategy.best(self.history())
        return best.metric_mean if best else None


def _result(future: Future[SeedRun], flight: _Flight) -> SeedRun:
    """A seed run's record; an executor failure (ours, not the candidate's) is kept as a crash
    with its traceback, so that one broken worker does not lose the experiment."""
    try:
        return future.result()
    except Exception as exc:
        return SeedRun(seed=flight.seed, failure=FailureKind.CRASH,
                       reason=f"executor error: {type(exc).__name__}: {exc}",
                       log_tail="".join(traceback.format_exception(exc))[-4000:])
