"""The built-in Backend: combos of slot templates over a prepared table, run in sandboxed
workers, scored by the trusted harness."""

from __future__ import annotations

from autoresearch.analysis.combo import Combo
from autoresearch.metric import Direction
from autoresearch.pipeline.backend import Outcome
from autoresearch.pipeline.catalog import Renderer, space_for
from autoresearch.pipeline.runs import Job, JobResult, WorkerOptions, run_jobs
from autoresearch.pipeline.space import Implementation, SearchSpace
from autoresearch.pipeline.table import Table
from autoresearch.records import FailureKind
from autoresearch.sandbox.validator import validate


class TabularBackend:
    def __init__(self, table: Table, framework: str = "sklearn",
                 options: WorkerOptions | None = None, space: SearchSpace | None = None) -> None:
        self.table, self.framework = table, framework
        self.options = options or WorkerOptions()
        self.space = space or space_for(framework, table.kind)
        self.renderer = Renderer(self.space, framework, table.kind, table.metric.name)
        self.metric_name = table.metric.name
        self.higher_is_better = table.metric.direction is Direction.MAX
        self.task_name = table.task_name
        self.data_hash = table.content_hash
        self.data_source = table.origin
        self.budget_seconds = self.options.timeout

    def get_search_space(self) -> SearchSpace:
        return self.space

    def render(self, combo: Combo) -> str:
        return self.renderer.render(combo)

    def add_implementation(self, impl: Implementation) -> None:
        self.space = self.space.with_implementation(impl)
        self.renderer.space = self.space

    def run_experiment(self, config: Combo) -> Outcome:
        return self.run_batch([config])[0]

    def run_batch(self, combos: list[Combo]) -> list[Outcome]:
        jobs, early = self._jobs(combos, holdout=False)
        results = run_jobs(self.table, jobs, self.options)
        return [early[i] if i in early else _outcome(results[str(i)])
                for i in range(len(combos))]

    def score_holdouts(self, combos: list[Combo]) -> list[Outcome]:
        jobs, early = self._jobs(combos, holdout=True)
        results = run_jobs(self.table, jobs, self.options)
        out = []
        for i in range(len(combos)):
            result = results.get(str(i))
            if i in early or result is None:
                out.append(early.get(i) or Outcome(failure=FailureKind.NO_RESULT))
            elif result.holdout is None:
                out.append(Outcome(failure=result.failure or FailureKind.NO_RESULT,
                                   reason=result.reason, log_tail=result.log_tail))
            else:
                out.append(Outcome(scores=(result.holdout,)))
        return out

    def score_holdout(self, config: Combo) -> Outcome:
        return self.score_holdouts([config])[0]

    def _jobs(self, combos: list[Combo], holdout: bool) -> tuple[list[Job], dict[int, Outcome]]:
        jobs, early = [], {}
        for i, combo in enumerate(combos):
            code = self.render(combo)
            check = validate(code, uses_harness=False)
            if not check.ok:
                early[i] = Outcome(failure=check.failure, reason=check.reason)
                continue
            jobs.append(Job(str(i), code, self.renderer.cache_key(combo), holdout=holdout))
        return jobs, early


def _outcome(result: JobResult) -> Outcome:
    extra = {"cache_hits": result.cache_hits}
    if result.failure is not None:
        return Outcome(failure=result.failure, reason=result.reason, slot=result.slot,
                       wall_seconds=result.wall_seconds, startup_seconds=result.startup_seconds,
                       peak_rss_mb=result.peak_rss_mb, log_tail=result.log_tail,
                       sandbox=result.sandbox, extra=extra)
    if not result.repeats:
        return Outcome(failure=FailureKind.NO_RESULT, reason="the worker reported no score",
                       log_tail=result.log_tail, sandbox=result.sandbox)
    return Outcome(scores=result.repeats, seeds=result.seeds, folds=result.folds,
                   wall_seconds=result.wall_seconds, startup_seconds=result.startup_seconds,
                   peak_rss_mb=result.peak_rss_mb, sandbox=result.sandbox, extra=extra)
