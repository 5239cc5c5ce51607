"""An in-process engine test kit: a scripted Proposer, an instant (or timed) Executor and a
tiny Task around the real ResearchLoop and a real Store, so the engine's rules are tested in
milliseconds.

A candidate's code is its script: `scores = [0.8, 0.81]` gives the i-th seed of the study's
seed list the score at i (a list there gives its measurements in turn, the last one repeated);
`screen = x` is its score on a screening run (a budget under the full 1 s; without it, the
seed's score); `crash` in the code fails every seed; `invalid` fails validation; `sleep = s`
makes each of its jobs take s seconds on the timed executor; `starve = [n0, n1]` makes the
first n_i runs of the i-th seed come back INTERFERED (screening runs and full runs counted
apart). Without `scores`, every seed scores
`base + max(a, b) + c` (plus 0.01 per place in the seed list): knobs with an interaction, one
per line, for ablations (see `knobs`); `requires = "a"` crashes every seed while knob a is 0.
"""

from __future__ import annotations

import ast
import random
import time
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from autoresearch.engine import Observer, ResearchLoop, RunSettings
from autoresearch.errors import ProposalError
from autoresearch.metric import Direction, Metric
from autoresearch.records import Experiment, FailureKind, Proposal, SeedRun
from autoresearch.sandbox import JobOptions
from autoresearch.sandbox.validator import ValidationResult
from autoresearch.search.acceptance import Acceptance
from autoresearch.search.proposer import ProposalContext
from autoresearch.search.strategy import Plan, Strategy
from autoresearch.storage import Store, Study
from autoresearch.tasks import PreparedData

HIGH = Metric("score", Direction.MAX)


def candidate(*scores: float | list[float], sleep: float = 0.0, holdout: float | None = None,
              name: str = "", starve: tuple[int, ...] = (), screen: float | None = None) -> str:
    lines = [f"name = {name!r}", f"scores = {list(scores)}", f"sleep = {sleep}"]
    if holdout is not None:
        lines.append(f"holdout = {holdout}")
    if screen is not None:
        lines.append(f"screen = {screen}")
    if starve:
        lines.append(f"starve = {list(starve)}")
    return "\n".join(lines) + "\n"


def knobs(base: float = 0.5, a: float = 0.0, b: float = 0.0, c: float = 0.0) -> str:
    """A candidate scored from its knobs (each on its own line, as a user's script has them)."""
    return f"base = {base}\na = {a}\nb = {b}\nc = {c}\n"


def _values(code: str) -> dict[str, object]:
    tree = ast.parse(code)
    return {t.targets[0].id: ast.literal_eval(t.value) for t in tree.body  # type: ignore[attr-defined]
            if isinstance(t, ast.Assign)}


@dataclass(frozen=True)
class KitJob:
    code: str
    seed: int
    index: int  # the seed's place in the study's seed list
    holdout: bool = False
    budget: float = 1.0  # under 1: a screening run

    def run(self, repeat: int = 0) -> SeedRun:
        values: dict[str, Any] = _values(self.code)
        time.sleep(float(values.get("sleep", 0.0)))
        if "crash" in self.code:
            return SeedRun(seed=self.seed, failure=FailureKind.CRASH, reason="it crashed")
        if self.holdout:
            return SeedRun(seed=self.seed, failure=None, metric=float(values.get("holdout", 0.0)))
        starve = values.get("starve", [])
        if self.index < len(starve) and repeat < starve[self.index]:
            return SeedRun(seed=self.seed, failure=FailureKind.INTERFERED, cpu_share=0.2,
                           reason="starved")
        if self.budget < 1.0 and "screen" in values:
            return SeedRun(seed=self.seed, failure=None, metric=values["screen"])
        if values.get("requires") and not values[values["requires"]]:
            return SeedRun(seed=self.seed, failure=FailureKind.CRASH, reason="NameError")
        if "scores" not in values:
            score = values["base"] + max(values["a"], values["b"]) + values["c"] + 0.01 * self.index
            return SeedRun(seed=self.seed, failure=None, metric=score)
        score = values["scores"][self.index]
        if isinstance(score, list):
            starved = starve[self.index] if self.index < len(starve) else 0
            score = score[min(repeat - starved, len(score) - 1)]
        return SeedRun(seed=self.seed, failure=None, metric=score)


@dataclass
class KitTask:
    """A Task whose runs take no time."""

    metric: Metric = HIGH
    baseline: str = candidate(0.5, 0.5, holdout=0.4, name="baseline")
    name: str = "kit"
    description: str = "the engine test kit"
    default_budget: float = 1.0
    harness_module: str | None = None
    required_calls: tuple[str, ...] = ()
    seed_order: tuple[int, ...] = (0, 1)  # the study's seed list (set by `loop`)

    def baseline_source(self) -> str:
        return self.baseline

    def prepare(self, cache_dir: Path, offline: bool) -> PreparedData:
        return DATA

    def prompt_section(self) -> str:
        return ""

    def seed_job(self, code: str, seed: int, data: PreparedData, options: JobOptions) -> KitJob:
        return KitJob(code, seed, self.seed_order.index(seed), budget=options.budget_seconds)

    def validate(self, code: str) -> ValidationResult:
        if "invalid" in code:
            return ValidationResult(FailureKind.VALIDATION, ("marked invalid",))
        return ValidationResult(None)



class HoldoutKitTask(KitTask):
    """A task with a holdout scored apart from the seeds, as tabular tasks have."""

    def holdout_job(self, code: str, data: PreparedData, options: JobOptions) -> KitJob:
        return KitJob(code, -1, -1, holdout=True)


DATA = PreparedData(Path("."), "kit", "kit", {})


class InstantExecutor:
    """Runs each job at once in the caller's thread and remembers it (and how often the same
    code ran on the same seed at the same budget before: its repeat)."""

    workers = 1

    def __init__(self) -> None:
        self.jobs: list[KitJob] = []
        self.runs: Counter[tuple[str, int, bool, float]] = Counter()

    def repeat(self, job: KitJob) -> int:
        self.jobs.append(job)
        key = (job.code, job.seed, job.holdout, job.budget)
        self.runs[key] += 1
        return self.runs[key] - 1

    def submit(self, job: KitJob) -> Future[SeedRun]:
        future: Future[SeedRun] = Future()
        future.set_result(job.run(self.repeat(job)))
        return future

    def shutdown(self) -> None: ...


class TimedExecutor(InstantExecutor):
    """Jobs run side by side in threads for as long as their code says."""

    def __init__(self, workers: int) -> None:
        super().__init__()
        self.workers = workers
        self.pool = ThreadPoolExecutor(max_workers=workers)

    def submit(self, job: KitJob) -> Future[SeedRun]:
        return self.pool.submit(job.run, self.repeat(job))

    def shutdown(self) -> None:
        self.pool.shutdown()


@dataclass
class ScriptedProposer:
    """Proposes the scripted codes in order; an exception in the script is raised instead."""

    script: list[str | Exception]
    name: str = "scripted"
    contexts: list[ProposalContext] = field(default_factory=list)

    def propose(self, context: ProposalContext) -> Proposal:
        self.contexts.append(context)
        if not self.script:
            raise ProposalError("the script is over")
        item = self.script.pop(0)
        if isinstance(item, Exception):
            raise item
        return Proposal(code=item, description=item.splitlines()[0], category="kit",
                        mode=context.mode, parent_id=context.parent.id, proposer=self.name)


class CountingStore(Store):
    """A real store that counts how often the whole study is read."""

    reads = 0

    def experiments(self, study: Study) -> list[Experiment]:
        self.reads += 1
        return super().experiments(study)


class Events(Observer):
    def __init__(self) -> None:
        self.finished: list[Experiment] = []

    def experiment_finished(self, experiment: Experiment, best: Experiment | None) -> None:
        self.finished.append(experiment)


class ManyPlans:
    """The script strategy, handing out as many plans as asked (none once `left` are out)."""

    def __init__(self, metric: Metric, left: int = 10**6) -> None:
        self.inner, self.left = Strategy(metric), left

    def best(self, history: Sequence[Experiment]) -> Experiment | None:
        return self.inner.best(history)

    def plans(self, history: Sequence[Experiment], number: int, rng: random.Random,
              busy: frozenset[int], count: int) -> list[Plan]:
        count = min(count, self.left)
        self.left -= count
        return [self.inner.plan(history, number + i, rng, busy) for i in range(count)]


def loop(tmp: Path | str, script: list[str | Exception], *, task: KitTask | None = None,
         executor: InstantExecutor | None = None, seeds: tuple[int, ...] = (0, 1),
         min_delta: float = 0.0, strategy: Strategy | ManyPlans | None = None,
         store: Store | None = None, max_seeds: int = 0, repeats: int = 1,
         sequential: bool = True, screen: float = 0.0) -> ResearchLoop:
    task = task or KitTask()
    settings = RunSettings(job=JobOptions(budget_seconds=1.0), seeds=seeds, max_seeds=max_seeds,
                           repeats=repeats, retry_wait=0.0, screen=screen)
    task.seed_order = settings.seed_list
    store = store or CountingStore(Path(tmp) / "kit.db")
    study = store.study(task.name, task.metric, 1.0, "kit", "kit")
    return ResearchLoop(
        task=task, data=DATA, store=store, study=study, proposer=ScriptedProposer(script),
        strategy=strategy or Strategy(task.metric), executor=executor or InstantExecutor(),
        acceptance=Acceptance(task.metric, min_delta, sequential=sequential),
        observer=Events(), settings=settings)
