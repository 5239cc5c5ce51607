"""The research loop. Components come in; data flows Strategy -> Proposer -> Validator ->
Executor -> Acceptance -> Store, and every seed run is committed as soon as it finishes.

Several experiments can be in flight at once (one per worker slot); the seeds of one
experiment run in order, each paired with the same seed of the incumbent (the best known when
the result arrives; it is run on a seed it lacks first), so that a clearly worse first seed
saves the rest and a near tie gets more seeds (search/acceptance.py); the incumbent's seed is
measured again every few experiments, so that a drifting machine does not compare today's
candidate with last hour's incumbent. The baseline's seeds are
measured twice (the study's run-noise model); a keep is measured again before it is final
(the winner's curse), and the incumbent too when the keep was close. A run the machine
starved (INTERFERED) is never judged: it is run again, a bounded number of times, and when
the load outlasts the re-runs the loop starts nothing new (the next `run` resumes). A candidate
whose code the study already holds is recorded as a duplicate and never run. A task with a
sealed holdout scored apart from the seeds (tabular) gets it scored for a kept experiment
before the verdict is committed, so a verdict never changes; a kept experiment may gain
measurements later (as the incumbent of a later comparison).

A merge plan (two kept branches that changed different things) needs no proposer: its code
is the three-way merge. Outside `run`, the same loop measures given code against a result on
that result's seeds (`measure`: ablations, which end MEASURED) and runs an experiment's code
again as further measurements of it (`remeasure`: replay); engine/verify.py drives both.

The study's history is read from the store once; after that the loop keeps it up to date
itself, so the cost per experiment does not grow with the study.
"""

from __future__ import annotations

import difflib
import random
import time
import traceback
from collections import Counter
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass, field, replace

from autoresearch.analysis.noise import Noise, noise_of
from autoresearch.errors import AutoresearchError, CostLimitReached, ProposalError
from autoresearch.execution import Executor
from autoresearch.records import Experiment, FailureKind, Mode, Proposal, SeedRun, Status
from autoresearch.sandbox import Job, JobOptions
from autoresearch.search.acceptance import Acceptance, Verdict, failure_of
from autoresearch.search.duplicates import CodeIndex
from autoresearch.search.lineage import MergePlan, merge_key
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
    target: int = -1  # whose seed runs now: the experiment's id, or the incumbent's
    verdict: Verdict | None = None  # decided, waiting for re-measurement or the holdout score
    queue: list[tuple[int, int]] = field(default_factory=list)  # (experiment id, seed) to re-run
    confirming: bool = False  # the keep's re-measurement is queued or done
    # INTERFERED runs by (id, seed, screening run?): a screening run and the full run of a
    # seed are retried apart
    starved: Counter[tuple[int, int, bool]] = field(default_factory=Counter)
    holdout: bool = False  # the holdout job is running
    screen: bool = False  # the job running is a screening run (a fraction of the budget)
    earlier: tuple[SeedRun, ...] = ()  # stored runs of a failed attempt: on record, not judged


@dataclass(frozen=True)
class RunSettings:
    """`seeds`: every experiment's first seeds; `max_seeds`: how many a near tie may get (the
    seeds past `seeds` are drawn deterministically, the same for every experiment);
    `repeats`: extra measurements of each baseline seed and of each new best (0 for a
    deterministic task); `refresh`: the incumbent is measured again on a seed every this
    many experiments judged against it; `retries` / `retry_wait`: re-runs of a starved seed,
    and the pause before each; `screen`: the budget fraction of a screening run (0: none), one
    seed of a candidate trained briefly and compared with the incumbent's screening run on
    the same seed: a candidate clearly worse there is discarded before its full runs."""

    job: JobOptions
    seeds: tuple[int, ...] = (42, 137)
    search_seed: int = 0
    max_seeds: int = 0  # 0: just `seeds`
    repeats: int = 1
    refresh: int = 5  # re-measure the incumbent on a seed every this many experiments (0: never)
    retries: int = 2
    retry_wait: float = 10.0
    screen: float = 0.0

    @property
    def seed_list(self) -> tuple[int, ...]:
        extra = max(self.max_seeds - len(self.seeds), 0)
        drawn: list[int] = []
        rng = random.Random("autoresearch:extra-seeds")
        while len(drawn) < extra:
            seed = rng.randrange(1, 2**31 - 1)
            if seed not in self.seeds and seed not in drawn:
                drawn.append(seed)
        return (*self.seeds, *drawn)


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
        self._codes = CodeIndex()
        # The best kept mean so far, readable from any thread (an executor that stops hopeless
        # work early compares against it).
        self.best_score: float | None = None

    # -- public -------------------------------------------------------------------------
    def history(self) -> list[Experiment]:
        """Every experiment of the study, oldest first (read from the store once)."""
        if self._known is None:
            self._known = {e.id: e for e in self.store.experiments(self.study)}
            self._codes = CodeIndex(sorted(self._known.values(), key=lambda e: e.number))
            self._note_best()
        return sorted(self._known.values(), key=lambda e: e.number)

    def noise(self) -> Noise:
        """The study's run-to-run noise, from every repeat measured so far."""
        return noise_of(self.history())

    def baseline(self) -> Experiment:
        """The study's baseline, trained now if the store has none kept (a failed or starved
        baseline is tried again; its earlier runs stay on record)."""
        existing = next((e for e in self.history() if e.proposal.mode is Mode.BASELINE), None)
        if existing is not None and existing.status is Status.KEPT:
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

        Experiments a killed run left unfinished, and those the machine starved, are finished
        first, without re-running the seeds they had scored. Returns why the run stopped.
        """
        started = time.monotonic()
        durations: list[float] = []
        flights: dict[Future[SeedRun], _Flight] = {}
        began: dict[int, float] = {}
        for experiment in self.history():
            resumable = not experiment.status.finished or experiment.status is Status.INTERFERED
            if resumable and experiment.proposal.mode is not Mode.BASELINE:
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
                if finished is not None and finished.status is Status.INTERFERED:
                    # The load outlasted the re-runs: new experiments would be starved too
                    # and only use up --max-experiments.
                    reason = reason or (f"the machine is busy: #{finished.number} was starved "
                                        "of CPU on every re-run; stopped")

    def remeasure(self, experiment: Experiment, seeds: tuple[int, ...]) -> Experiment:
        """Run the experiment's exact code again on `seeds`; the runs are stored as further
        measurements of it (`replay`). A starved run is re-run, a bounded number of times."""
        flight = _Flight(experiment)
        for seed in seeds:
            self._measure_seed(flight, experiment.id, seed)
        return _whole(flight)

    def measure(self, proposal: Proposal, against: Experiment) -> Experiment:
        """Record and run `proposal` on every seed `against` has scored, to measure the paired
        difference between the two (an ablation): it ends MEASURED, never the best."""
        parent = next(e for e in self.history() if e.id == against.id)
        experiment = self._record(proposal, unified_diff(
            parent.code, proposal.code, f"experiment-{parent.number}", "ablation"))
        flight = self._begin(experiment)
        if not isinstance(flight, _Flight):
            return flight
        for seed in list(against.seed_scores):  # the order they were first scored in
            self._measure_seed(flight, experiment.id, seed)
            failed = failure_of(flight.experiment.seed_runs)
            if failed is not None:
                return self._close(_whole(flight), failed.status, failed.failure, failed.reason)
        if not flight.experiment.seed_scores:
            return self._close(_whole(flight), Status.INTERFERED, FailureKind.INTERFERED,
                               "every run was starved by other load: not measured")
        verdict = self.acceptance.effect(self._find(against.id, flight), flight.experiment,
                                         self.noise())
        return self._close(_whole(flight), verdict.status, verdict.failure, verdict.reason)

    # -- internals ----------------------------------------------------------------------
    def _measure_seed(self, flight: _Flight, target: int, seed: int) -> None:
        """One seed run of the flight's target, stored; re-run while the machine starves it."""
        for attempt in range(self.settings.retries + 1):
            if attempt:
                time.sleep(self.settings.retry_wait)
            flight.target, flight.seed = target, seed
            job = self.task.seed_job(self._find(target, flight).code, seed, self.data,
                                     self.settings.job)
            run = _result(self.executor.submit(job), flight)
            self._absorb(flight, run)
            if run.failure is not FailureKind.INTERFERED:
                return

    def _count(self) -> int:
        """Experiments the search made (the baseline and ablations are not its moves)."""
        return sum(1 for e in self.history()
                   if e.proposal.mode not in (Mode.BASELINE, Mode.ABLATION))

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
        """Propose and record the plan's experiment (a failed proposal is recorded too, and a
        duplicate of code the study holds is recorded as such)."""
        history = self.history()
        number = max((e.number for e in history), default=0) + 1
        context = ProposalContext(task=self.task, metric=self.study.metric, mode=plan.mode,
                                  parent=plan.parent, history=tuple(history), number=number,
                                  suggestion=plan.suggestion, note=plan.note)
        merge = plan.suggestion if isinstance(plan.suggestion, MergePlan) else None
        # A merge is code the loop writes itself, unless the three-way merge conflicted and
        # the proposer can resolve conflicts (a model).
        own = merge is not None and (merge.code is not None or
                                     not getattr(self.proposer, "resolves_merges", False))
        try:
            proposal = _merge(plan) if own else self.proposer.propose(context)
        except ProposalError as exc:
            failed = Proposal(code=plan.parent.code, description="failed proposal",
                              category="none", mode=plan.mode, parent_id=plan.parent.id,
                              proposer=exc.proposer or self.proposer.name, usage=exc.usage)
            experiment = self._record(failed, "")
            return self._close(experiment, Status.INVALID, FailureKind.PROPOSAL, str(exc))
        parent = next((e for e in history if e.id == proposal.parent_id), plan.parent)
        diff = unified_diff(parent.code, proposal.code, f"experiment-{parent.number}",
                            f"experiment-{number}")
        original = self._codes.original(proposal.code)
        experiment = self._record(proposal, diff)
        if original is not None:
            which = "its parent" if original.id == parent.id else "an earlier experiment"
            return self._close(experiment, Status.DUPLICATE, FailureKind.DUPLICATE,
                               f"the same code as #{original.number} ({which}) once comments, "
                               "layout and number formatting are set aside: not run")
        return experiment

    def _record(self, proposal: Proposal, diff: str) -> Experiment:
        experiment = self.store.add_experiment(self.study, proposal, diff,
                                               list(self.settings.seeds))
        self._keep(experiment)
        return experiment

    def _keep(self, experiment: Experiment) -> None:
        self.history()  # loaded before the first change
        assert self._known is not None
        self._known[experiment.id] = experiment
        self._codes.add(experiment)
        if experiment.status is Status.KEPT:
            self._note_best()

    def _note_best(self) -> None:
        best = self.strategy.best(self.history())
        self.best_score = best.metric_mean if best is not None else None

    def _close(self, experiment: Experiment, status: Status, failure: FailureKind | None,
               reason: str) -> Experiment:
        done = experiment.finish(status, failure, reason, time.time())
        self.store.finish_experiment(done)
        self._keep(done)
        self.observer.experiment_finished(done, self.strategy.best(self.history()))
        return done

    def _begin(self, experiment: Experiment, baseline: bool = False) -> _Flight | Experiment:
        """Validate; an invalid or already decided experiment comes back as it ends. A failed
        baseline or a starved experiment starts again from its scored runs."""
        if experiment.status.finished and experiment.status is not Status.INTERFERED and \
                not (baseline and experiment.status is not Status.KEPT):
            return experiment
        earlier: tuple[SeedRun, ...] = ()
        if experiment.status.finished:
            experiment = replace(experiment, status=Status.RUNNING, failure=None, reason="",
                                 finished_at=None)
            self.store.finish_experiment(experiment)
            self._keep(experiment)
            earlier = tuple(r for r in experiment.seed_runs if not r.ok)
        self.observer.experiment_started(experiment)
        check = self.task.validate(experiment.code)
        if check.failure is not None:
            return self._close(experiment, check.failure.status, check.failure, check.reason)
        return _Flight(replace(experiment, seed_runs=tuple(
            r for r in experiment.seed_runs if r not in earlier)), baseline, earlier=earlier)

    def _find(self, experiment_id: int, flight: _Flight) -> Experiment:
        if experiment_id == flight.experiment.id:
            return flight.experiment
        assert self._known is not None
        return self._known[experiment_id]

    def _next_run(self, flight: _Flight) -> tuple[int, int] | Verdict:
        """What the flight runs next, (experiment id, seed), or its verdict."""
        if flight.queue:
            return flight.queue[0]
        experiment = flight.experiment
        failed = failure_of(experiment.every_run)
        if failed is not None:
            return failed
        if flight.verdict is not None:  # re-measured: judged again on every measurement
            return self._confirmed(flight)
        if flight.baseline:
            return self._baseline_run(experiment) or \
                Verdict(Status.KEPT, None, f"baseline; {self.noise().describe()}")
        incumbent = self.strategy.best(self.history())
        if incumbent is None:  # nothing kept to compare with (a pipeline's baseline failed)
            seed = next((s for s in self.settings.seeds if s not in experiment.seed_scores),
                        None)
            return (experiment.id, seed) if seed is not None else \
                Verdict(Status.KEPT, None, "the first scored experiment: nothing kept before it")
        screen = self._screen(experiment, incumbent)
        if screen is not None:
            flight.screen = isinstance(screen, tuple)
            return screen
        seeds = self.settings.seed_list
        verdict = self.acceptance.judge(experiment, incumbent, self.noise(),
                                        min_seeds=len(self.settings.seeds),
                                        max_seeds=len(seeds))
        if verdict is not None:
            return self._confirm(flight, incumbent, verdict)
        # A seed the incumbent failed on (it ran before the seed list grew) cannot be paired.
        broken = {r.seed for r in incumbent.seed_runs
                  if not r.ok and r.failure is not FailureKind.INTERFERED}
        seed = next((s for s in seeds if s not in broken and not (
            s in experiment.seed_scores and s in incumbent.seed_scores)), None)
        if seed is None:
            return Verdict(Status.DISCARDED, None, "no seed left to pair with the incumbent")
        if seed not in incumbent.seed_scores or self._stale(incumbent, seed):
            return incumbent.id, seed  # the incumbent is measured on it (again) first
        return experiment.id, seed

    def _screen(self, experiment: Experiment,
                incumbent: Experiment) -> tuple[int, int] | Verdict | None:
        """Successive halving's first rung: before a candidate gets its full runs, it and the
        incumbent train on the first seed for a fraction of the budget; a candidate worse there
        by more than twice the run noise is discarded. Its full runs alone decide a keep, so a
        screening run can cost a good candidate its chance, never grant one."""
        fraction = self.settings.screen
        if not fraction or experiment.seed_runs or experiment.proposal.mode is Mode.ABLATION:
            return None
        seed = self.settings.seeds[0]
        if any(not r.ok and r.failure is not FailureKind.INTERFERED
               for r in incumbent.screens if r.seed == seed):
            return None  # the incumbent cannot be screened: compare at the full budget
        scores = [next((r.metric for r in e.screens if r.ok and r.seed == seed
                        and r.screen == fraction), None) for e in (incumbent, experiment)]
        for e, score in zip((incumbent, experiment), scores, strict=True):
            if score is None:
                return e.id, seed
        theirs, mine = scores
        assert theirs is not None and mine is not None
        gain = self.study.metric.gain(mine, theirs)
        margin = 2 * (self.noise().sd or 0.0)
        if gain >= -margin:
            return None
        return Verdict(Status.DISCARDED, None,
                       f"screened out: seed {seed} at {fraction:.0%} of the budget scored "
                       f"{mine:.4f} against #{incumbent.number}'s {theirs:.4f} (gain "
                       f"{gain:+.4f}, below -{margin:.4f}, twice the run noise): not trained "
                       "at the full budget")

    def _stale(self, incumbent: Experiment, seed: int) -> bool:
        """The machine drifts over a study (other load comes and goes, caches and clocks
        warm up), so the incumbent's score on a seed is refreshed every `refresh`
        experiments judged against it: comparisons stay close in time, and every refresh is
        one more repeat for the noise model."""
        if not self.settings.repeats or not self.settings.refresh:
            return False  # a deterministic task: a repeat is bit-identical
        judged = sum(1 for e in self.history() if e.number > incumbent.number
                     and e.status.finished and e.proposal.mode is not Mode.ABLATION)
        measured = sum(1 for r in incumbent.seed_runs if r.seed == seed and r.ok)
        # The study's own seeds start with their repeats; a near tie's extra seed with one run.
        first = 1 + (self.settings.repeats if seed in self.settings.seeds else 0)
        return measured < first + judged // self.settings.refresh

    def _baseline_run(self, baseline: Experiment) -> tuple[int, int] | None:
        """Every seed once, then each again `repeats` times: the study's noise model."""
        counts = Counter(r.seed for r in baseline.seed_runs if r.ok)
        for wanted in range(1, self.settings.repeats + 2):
            for seed in self.settings.seeds:
                if counts[seed] < wanted:
                    return baseline.id, seed
        return None

    def _confirm(self, flight: _Flight, incumbent: Experiment,
                 verdict: Verdict) -> tuple[int, int] | Verdict:
        """A keep is the new best: its estimate is the luckiest of many, so its paired seeds
        are measured again (and the incumbent's, when the keep was close) before it is final."""
        if verdict.status is not Status.KEPT or not self.settings.repeats or flight.confirming:
            return verdict
        flight.verdict, flight.confirming = verdict, True
        seeds = [s for s in flight.experiment.seed_scores if s in incumbent.seed_scores]
        flight.queue = [(flight.experiment.id, s) for s in seeds]
        if self.acceptance.close(flight.experiment, incumbent, self.noise()):
            flight.queue += [(incumbent.id, s) for s in seeds]
        return flight.queue[0]

    def _confirmed(self, flight: _Flight) -> Verdict:
        first = flight.verdict
        assert first is not None
        incumbent = self.strategy.best([e for e in self.history()
                                        if e.id != flight.experiment.id])
        if incumbent is None:
            return first
        n = len(flight.experiment.seed_scores)
        again = self.acceptance.judge(flight.experiment, incumbent, self.noise(), n, n)
        if again is not None and again.status is Status.KEPT:
            return replace(again, reason=f"{again.reason}; confirmed by re-measurement")
        reason = again.reason if again is not None else first.reason
        return Verdict(Status.DISCARDED, None,
                       f"kept on its first measurement, not on re-measurement: {reason}")

    def _next_job(self, flight: _Flight) -> Job | Experiment:
        """The flight's next job: a seed (its own, or the incumbent's to pair with), a
        re-measurement, then the holdout of a kept experiment; or, when nothing is left to
        run, the experiment as decided."""
        if not flight.holdout:
            flight.screen = False
            step = self._next_run(flight)
            if isinstance(step, tuple):
                target, seed = step
                starved = flight.starved[(target, seed, flight.screen)]
                if starved > self.settings.retries:
                    return self._close(_whole(flight), Status.INTERFERED,
                                       FailureKind.INTERFERED,
                                       self._starved(flight, target, seed, starved))
                if starved:
                    time.sleep(self.settings.retry_wait)  # let the other load pass
                flight.target, flight.seed = target, seed
                job = self.settings.job
                if flight.screen:
                    job = replace(job, budget_seconds=job.budget_seconds * self.settings.screen)
                return self.task.seed_job(self._find(target, flight).code, seed, self.data, job)
            flight.verdict = self._verdict(flight, step)
            holdout = getattr(self.task, "holdout_job", None)
            if flight.verdict.status is Status.KEPT and callable(holdout):
                # Decided: later decisions compare against it while its holdout is scored.
                self._keep(replace(_whole(flight), status=Status.KEPT))
                flight.seed, flight.holdout = HOLDOUT_SEED, True
                return holdout(flight.experiment.code, self.data, self.settings.job)
        assert flight.verdict is not None
        return self._close(_whole(flight), flight.verdict.status, flight.verdict.failure,
                           flight.verdict.reason)

    def _starved(self, flight: _Flight, target: int, seed: int, times: int) -> str:
        found = self._find(target, flight)
        runs = [r for r in (found.screens if flight.screen else found.seed_runs)
                if r.seed == seed and r.failure is FailureKind.INTERFERED]
        share = f" (CPU share {runs[-1].cpu_share:.0%})" \
            if runs and runs[-1].cpu_share is not None else ""
        whose = "" if target == flight.experiment.id else f" of the incumbent #{found.number}"
        run = "the screening run of seed" if flight.screen else "seed"
        return (f"{run} {seed}{whose} was starved by other load on the machine {times} "
                f"times{share}: not judged; a later `run` retries it")

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
        if flight.holdout:
            return self._absorb_holdout(flight, run)
        step = (flight.target, flight.seed)
        if run.failure is FailureKind.INTERFERED:
            flight.starved[(*step, flight.screen)] += 1
        elif flight.queue and flight.queue[0] == step:
            flight.queue.pop(0)
        target = self._find(flight.target, flight)
        own = target.id == flight.experiment.id
        if flight.screen:
            run = replace(run, measurement=-1 - sum(1 for r in target.screens
                                                    if r.seed == run.seed),
                          extra={**run.extra, "screen": self.settings.screen})
            self.store.add_seed_run(target.id, run)
            updated = replace(target, screens=(*target.screens, run))
        else:
            stored = (*flight.earlier, *target.seed_runs) if own else target.seed_runs
            run = replace(run, measurement=sum(1 for r in stored if r.seed == run.seed))
            self.store.add_seed_run(target.id, run)
            updated = replace(target, seed_runs=(*target.seed_runs, run))
        if own:
            flight.experiment = updated
            self._keep(_whole(flight))
        else:
            self._keep(updated)
        self.observer.seed_finished(updated, run)

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

    def _verdict(self, flight: _Flight, verdict: Verdict) -> Verdict:
        runs = list(flight.experiment.seed_runs)
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


def _merge(plan: Plan) -> Proposal:
    """A merge needs no proposer: its code is the three-way merge of two kept branches."""
    merge: MergePlan = plan.suggestion
    if merge.code is None:
        raise ProposalError(f"{merge.describe()}: both changed the same lines", proposer="merge")
    return Proposal(code=merge.code, description=merge.describe(), category="merge",
                    mode=Mode.MERGE, parent_id=merge.ours.id, proposer="merge",
                    hypothesis=merge_key(merge), knobs=parse_values(merge.code))


def _whole(flight: _Flight) -> Experiment:
    """The flight's experiment with every stored run, a failed earlier attempt's too."""
    experiment = flight.experiment
    return replace(experiment, seed_runs=(*flight.earlier, *experiment.seed_runs))


def _result(future: Future[SeedRun], flight: _Flight) -> SeedRun:
    """A seed run's record; an executor failure (ours, not the candidate's) is kept as a crash
    with its traceback, so that one broken worker does not lose the experiment."""
    try:
        return future.result()
    except Exception as exc:
        return SeedRun(seed=flight.seed, failure=FailureKind.CRASH,
                       reason=f"executor error: {type(exc).__name__}: {exc}",
                       log_tail="".join(traceback.format_exception(exc))[-4000:])
