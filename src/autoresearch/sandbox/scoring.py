"""What the processes of a project's seed run amount to: a SeedRun with its metric or failure.

The metric is read from the eval command's output when there is one, else from the training
command's (a `NAME: value` line, a JSON line, or the user's pattern); the training's own output
still gives the informational numbers (training time, steps).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from autoresearch.records import FailureKind, SeedRun
from autoresearch.sandbox.limits import OOM_MARKERS, budget_slack
from autoresearch.sandbox.process import ProcessResult, exit_reason
from autoresearch.sandbox.runner import failure_of
from autoresearch.sandbox.summary import read_pattern, read_summary, sealed_key

if TYPE_CHECKING:
    from autoresearch.sandbox.command import CommandJob

BUDGET_ENV = "AUTORESEARCH_TIME_BUDGET"
# Where a script may report its own training time (checked against the budget) and step count.
TRAIN_SECONDS_KEYS = ("training_seconds", "train_seconds")
STEPS_KEYS = ("num_steps", "steps")
EVAL_MARK = "\n--- eval command ---\n"


@dataclass(frozen=True)
class Runs:
    training: ProcessResult
    violations: list[str]  # fixed files the training changed
    outputs: list[str]  # files it wrote
    evaluation: ProcessResult | None = None


def score(job: CommandJob, runs: Runs) -> SeedRun:
    training, evaluation = runs.training, runs.evaluation
    log = training.log_tail + (EVAL_MARK + evaluation.log_tail if evaluation else "")
    base = SeedRun(seed=job.seed, failure=None, wall_seconds=training.wall_seconds,
                   peak_rss_mb=training.peak_rss_mb, log_tail=log, sandbox=training.layers,
                   eval_seconds=evaluation.wall_seconds if evaluation else 0.0,
                   extra={"outputs": runs.outputs})
    if runs.violations:
        return replace(base, failure=FailureKind.INTEGRITY,
                       reason=f"changed read-only file(s): {', '.join(runs.violations[:8])}")
    failed = _process_failure(job, training, "the command")
    if failed is None and job.eval_command:
        assert evaluation is not None
        failed = _process_failure(job, evaluation, "the eval command")
    if failed is not None:
        return replace(base, failure=failed[0], reason=failed[1])
    values = read_summary(training.log_tail, job.metric_format)
    source = evaluation.log_tail if evaluation else training.log_tail
    scored = read_summary(source, job.metric_format) if evaluation else values
    metric = (read_pattern(source, job.metric_pattern) if job.metric_pattern
              else scored.get(job.metric))
    if metric is None:
        return replace(base, failure=FailureKind.CRASH, reason=_missing(job))
    if not math.isfinite(metric):
        return replace(base, failure=FailureKind.DIVERGENCE, reason=f"{job.metric} is {metric}")
    train = next((values[k] for k in TRAIN_SECONDS_KEYS if k in values), None)
    budget = job.options.budget_seconds
    if train is not None and train > budget + budget_slack(budget):
        return replace(base, failure=FailureKind.OVER_BUDGET,
                       reason=f"trained {train:.1f}s against a "
                              f"{job.options.budget_seconds:g}s budget")
    steps = next((values[k] for k in STEPS_KEYS if k in values), 0)
    test = scored.get(sealed_key(job.metric))
    return replace(base, metric=metric,
                   test_metric=test if test is not None and math.isfinite(test) else None,
                   train_seconds=train if train is not None else training.wall_seconds,
                   steps=int(steps), extra={**base.extra, "summary": {**values, **scored}})


def _missing(job: CommandJob) -> str:
    who = "the eval command" if job.eval_command else "the command"
    if job.metric_pattern:
        return f"{who} printed nothing that matches --metric-pattern {job.metric_pattern!r}"
    return f"{who} finished without printing `{job.metric}: <number>` (see the log tail)"


def _process_failure(job: CommandJob, result: ProcessResult,
                     who: str) -> tuple[FailureKind, str] | None:
    if result.timed_out:
        limit = job.options.grace_seconds if who == "the eval command" else (
            job.options.budget_seconds + job.options.grace_seconds)
        return FailureKind.TIMEOUT, f"{who}: no result within {limit:.0f}s; killed"
    if result.output_exceeded or result.returncode != 0:
        oom = any(m in result.log_tail.lower() for m in OOM_MARKERS)
        kind = FailureKind.OOM if oom else failure_of(result)
        prefix = "" if who == "the command" else f"{who} "
        return kind, prefix + _crash_reason(result)
    return None


def _crash_reason(result: ProcessResult) -> str:
    last = next((line for line in reversed(result.log_tail.splitlines()) if line.strip()), "")
    reason = exit_reason(result).replace(" before reporting a result", "")
    return f"{reason}: {last[:300]}" if last else reason
