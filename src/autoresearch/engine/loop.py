"""The research loop. Components come in; data flows Strategy -> Proposer -> Validator ->
Executor -> Acceptance -> Store, and every step is committed before the next begins."""

from __future__ import annotations

import difflib
import random
import time
from dataclasses import dataclass, replace

from autoresearch.errors import ProposalError
from autoresearch.execution import Executor
from autoresearch.sandbox import JobOptions, validate
from autoresearch.search.acceptance import Acceptance
from autoresearch.search.offline import parse_values
from autoresearch.search.proposer import ProposalContext, Proposer
from autoresearch.search.strategy import Strategy
from autoresearch.storage import Experiment, Mode, Proposal, SeedRun, Status, Store, Study
from autoresearch.storage.records import FailureKind
from autoresearch.tasks import PreparedData, Task


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
                 proposer: Proposer, strategy: Strategy, acceptance: Acceptance,
                 executor: Executor, settings: RunSettings,
                 observer: Observer | None = None) -> None:
        self.task, self.data, self.store, self.study = task, data, store, study
        self.proposer, self.strategy, self.acceptance = proposer, strategy, acceptance
        self.executor, self.settings = executor, settings
        self.observer = observer or Observer()

    # -- public -------------------------------------------------------------------------
    def history(self) -> list[Experiment]:
        return self.store.experiments(self.study)

    def baseline(self) -> Experiment:
        """The study's baseline, trained now if the store has none finished."""
        existing = next((e for e in self.history() if e.proposal.mode is Mode.BASELINE), None)
        if existing is not None and existing.status.finished:
            return existing
        proposal = Proposal(code=self.task.baseline_source(), description="baseline",
                            category="baseline", mode=Mode.BASELINE, parent_id=None,
                            proposer="baseline")
        proposal = replace(proposal, knobs=parse_values(proposal.code))
        return self._evaluate(existing or self._record(proposal, ""), baseline=True)

    def resume_interrupted(self) -> list[Experiment]:
        """Finish experiments a killed run left running; their finished seeds are not re-run."""
        return [self._evaluate(e) for e in self.history()
                if not e.status.finished and e.proposal.mode is not Mode.BASELINE]

    def step(self) -> Experiment:
        history = self.history()
        number = max((e.number for e in history), default=0) + 1
        rng = random.Random(f"{self.settings.search_seed}:plan:{number}")
        plan = self.strategy.plan(history, number, rng)
        context = ProposalContext(task=self.task, metric=self.study.metric, mode=plan.mode,
                                  parent=plan.parent, history=tuple(history), number=number)
        try:
            proposal = self.proposer.propose(context)
        except ProposalError as exc:
            failed = Proposal(code=plan.parent.code, description="failed proposal",
                              category="none", mode=plan.mode, parent_id=plan.parent.id,
                              proposer=self.proposer.name)
            experiment = self._record(failed, "")
            return self._close(experiment, Status.INVALID, FailureKind.PROPOSAL, str(exc))
        diff = unified_diff(plan.parent.code, proposal.code, f"experiment-{plan.parent.number}",
                            f"experiment-{number}")
        return self._evaluate(self._record(proposal, diff))

    # -- internals ----------------------------------------------------------------------
    def _record(self, proposal: Proposal, diff: str) -> Experiment:
        return self.store.add_experiment(self.study, proposal, diff, list(self.settings.seeds))

    def _close(self, experiment: Experiment, status: Status, failure: FailureKind | None,
               reason: str) -> Experiment:
        done = experiment.finish(status, failure, reason, time.time())
        self.store.finish_experiment(done)
        self.observer.experiment_finished(done, self.strategy.best(self.history()))
        return done

    def _evaluate(self, experiment: Experiment, baseline: bool = False) -> Experiment:
        self.observer.experiment_started(experiment)
        check = validate(experiment.code, self.task.required_calls,
                         uses_harness=self.task.harness_module is not None)
        if not check.ok:
            return self._close(experiment, check.failure.status, check.failure,  # type: ignore[union-attr]
                               check.reason)
        runs = [r for r in experiment.seed_runs if r.seed in self.settings.seeds]
        best = None if baseline else self._best_metric()
        for seed in self.settings.seeds:
            if any(r.seed == seed for r in runs):
                continue
            if runs and not self.acceptance.worth_more_seeds(runs, best):
                break
            job = self.task.seed_job(experiment.code, seed, self.data, self.settings.job)
            run = self.executor.submit(job).result()
            self.store.add_seed_run(experiment.id, run)
            runs.append(run)
            experiment = replace(experiment, seed_runs=tuple(runs))
            self.observer.seed_finished(experiment, run)
        verdict = self.acceptance.decide(runs, best, len(self.settings.seeds))
        if baseline and verdict.failure is None:
            verdict = replace(verdict, status=Status.KEPT)
        return self._close(experiment, verdict.status, verdict.failure, verdict.reason)

    def _best_metric(self) -> float | None:
        best = self.strategy.best(self.history())
        return best.metric_mean if best else None
