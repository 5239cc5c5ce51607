"""One seed run of a user's project: a fresh copy of the folder, the training command, and the
metric read from the summary the command prints.

Trust model (stated in the README): here the script computes its own metric, so integrity rests
on the files the candidate may not change (the evaluation code, the data): they are read-only
copies, fingerprinted before and after the run, and a run that changed one is rejected.
"""

from __future__ import annotations

import json
import math
import shlex
import sys
from dataclasses import dataclass, replace
from pathlib import Path

from autoresearch.bundle import BundleError, unpack
from autoresearch.records import FailureKind, SeedRun
from autoresearch.sandbox.bootstrap import OOM_MARKERS
from autoresearch.sandbox.environment import candidate_environment
from autoresearch.sandbox.isolation import Policy
from autoresearch.sandbox.limits import Limits
from autoresearch.sandbox.process import ProcessResult, exit_reason, run_isolated
from autoresearch.sandbox.runner import JobOptions, failure_of, new_workdir
from autoresearch.sandbox.summary import read_summary, sealed_key
from autoresearch.sandbox.workspace import Workspace, prepare_workspace, remove_tree

SEED_ENV = "AUTORESEARCH_SEED"
BUDGET_ENV = "AUTORESEARCH_TIME_BUDGET"
# Where a script may report its own training time (checked against the budget) and step count.
TRAIN_SECONDS_KEYS = ("training_seconds", "train_seconds")
STEPS_KEYS = ("num_steps", "steps")


def command_argv(command: str) -> list[str]:
    """The command as an argument list (no shell); `python` is the interpreter running us."""
    argv = shlex.split(command)
    if argv and argv[0] in ("python", "python3"):
        argv[0] = sys.executable
    return argv


@dataclass(frozen=True)
class CommandJob:
    """Plain data, so it can cross to another process or host."""

    code: str  # the editable files (one verbatim, several as a bundle; see autoresearch.bundle)
    seed: int
    project: Path
    command: str
    edit: tuple[str, ...]
    metric: str
    options: JobOptions
    metric_format: str = "auto"

    def run(self) -> SeedRun:
        return run_command(self)


def run_command(job: CommandJob) -> SeedRun:
    """Run one seed; never raises for anything the candidate does."""
    try:
        files = unpack(job.code, job.edit)
    except BundleError as exc:
        return SeedRun(seed=job.seed, failure=FailureKind.VALIDATION, reason=str(exc))
    options = job.options
    workdir = new_workdir(job.seed)
    try:
        space = prepare_workspace(job.project, workdir / "project", files, options.hidden)
        result = run_isolated(
            _launcher(job), policy=_policy(job, workdir, space), env=_environment(job, workdir),
            timeout=options.budget_seconds + options.grace_seconds, limits=_limits(options))
        changed = space.changed()
    finally:
        remove_tree(workdir)
    return _outcome(job, result, changed)


def _limits(options: JobOptions) -> Limits:
    seconds = (options.budget_seconds + options.grace_seconds) * options.cores + 60
    return replace(options.limits, cpu_seconds=int(seconds))


def _launcher(job: CommandJob) -> list[str]:
    spec = {"limits": _limits(job.options).__dict__, "cuda": job.options.uses_gpu}
    return [sys.executable, "-m", "autoresearch.sandbox.launch", json.dumps(spec), "--",
            *command_argv(job.command)]


def _policy(job: CommandJob, workdir: Path, space: Workspace) -> Policy:
    fixed = tuple(space.root / name for name in space.fixed)
    return Policy(workdir=space.root, readable=(*space.linked, *fixed),
                  hidden=job.options.hidden, network=job.options.network,
                  gpu=job.options.uses_gpu, extra_writable=(workdir,))


def _environment(job: CommandJob, workdir: Path) -> dict[str, str]:
    options = job.options
    env = candidate_environment(job.seed, workdir, options.cores, options.gpus)
    env[BUDGET_ENV] = f"{options.budget_seconds:g}"
    # A user's script picks its own device: the device option can only narrow what it sees.
    if options.device == "cpu":
        env["CUDA_VISIBLE_DEVICES"] = ""
    elif options.device.startswith("cuda:") and options.gpus is None:
        env["CUDA_VISIBLE_DEVICES"] = options.device.split(":", 1)[1]
    return env


def _outcome(job: CommandJob, result: ProcessResult, changed: list[str]) -> SeedRun:
    base = SeedRun(seed=job.seed, failure=None, wall_seconds=result.wall_seconds,
                   peak_rss_mb=result.peak_rss_mb, log_tail=result.log_tail,
                   sandbox=result.layers)
    if changed:
        return replace(base, failure=FailureKind.INTEGRITY,
                       reason=f"changed read-only file(s): {', '.join(changed[:8])}")
    if result.timed_out:
        timeout = job.options.budget_seconds + job.options.grace_seconds
        return replace(base, failure=FailureKind.TIMEOUT,
                       reason=f"no result within {timeout:.0f}s (budget + grace); killed")
    if result.output_exceeded or result.returncode != 0:
        oom = any(m in result.log_tail.lower() for m in OOM_MARKERS)
        return replace(base, failure=FailureKind.OOM if oom else failure_of(result),
                       reason=_crash_reason(result))
    values = read_summary(result.log_tail, job.metric_format)
    metric = values.get(job.metric)
    if metric is None:
        return replace(base, failure=FailureKind.CRASH,
                       reason=f"the command finished without printing `{job.metric}: <number>` "
                              "(see the log tail)")
    if not math.isfinite(metric):
        return replace(base, failure=FailureKind.DIVERGENCE, reason=f"{job.metric} is {metric}")
    train = next((values[k] for k in TRAIN_SECONDS_KEYS if k in values), None)
    if train is not None and job.options.budget_overrun(train):
        return replace(base, failure=FailureKind.OVER_BUDGET,
                       reason=f"trained {train:.1f}s against a "
                              f"{job.options.budget_seconds:g}s budget")
    steps = next((values[k] for k in STEPS_KEYS if k in values), 0)
    test = values.get(sealed_key(job.metric))
    return replace(base, metric=metric,
                   test_metric=test if test is not None and math.isfinite(test) else None,
                   train_seconds=train if train is not None else result.wall_seconds,
                   steps=int(steps), extra={"summary": values})


def _crash_reason(result: ProcessResult) -> str:
    last = next((line for line in reversed(result.log_tail.splitlines()) if line.strip()), "")
    reason = exit_reason(result).replace(" before reporting a result", "")
    return f"{reason}: {last[:300]}" if last else reason
