"""One seed run of a user's project: a fresh copy of the folder, the training command, then
(with an eval command) the evaluation in its own process, and the metric read from what it
prints.

Trust model (stated in the README): without an eval command the script computes its own metric,
so a candidate can print any number; integrity then rests only on the fixed files. With one,
the metric is read from the eval command's output alone, and the eval runs after the training
process has ended, in a fresh copy of the project (fixed files as the user has them) holding
only the candidate's files and the training's outputs.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, replace
from pathlib import Path

from autoresearch.bundle import BundleError, unpack
from autoresearch.records import FailureKind, SeedRun
from autoresearch.sandbox.environment import candidate_environment
from autoresearch.sandbox.isolation import Policy
from autoresearch.sandbox.limits import Limits
from autoresearch.sandbox.process import ProcessResult, run_isolated
from autoresearch.sandbox.runner import JobOptions, new_workdir
from autoresearch.sandbox.scoring import BUDGET_ENV, Runs, score
from autoresearch.sandbox.shell import command_argv, interpreter_first
from autoresearch.sandbox.workspace import Workspace, prepare_workspace, remove_tree

__all__ = ["BUDGET_ENV", "SEED_ENV", "CommandJob", "run_command"]
SEED_ENV = "AUTORESEARCH_SEED"


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
    metric_pattern: str | None = None  # a regex whose first group is the metric
    eval_command: str | None = None  # run after training; the metric comes from its output
    # Files a run may overwrite; None: the user's own files, trusted to write anything (what
    # they write becomes the outputs, recorded in extra["outputs"]).
    outputs: tuple[str, ...] | None = ()

    def run(self) -> SeedRun:
        return run_command(self)


def run_command(job: CommandJob) -> SeedRun:
    """Run one seed; never raises for anything the candidate does."""
    try:
        files = unpack(job.code, job.edit)
    except BundleError as exc:
        return SeedRun(seed=job.seed, failure=FailureKind.VALIDATION, reason=str(exc))
    outputs = None if job.outputs is None else frozenset(job.outputs)
    workdir = new_workdir(job.seed)
    try:
        space = prepare_workspace(job.project, workdir / "project", files, job.options.hidden,
                                  outputs=outputs)
        training = _run(job, job.command, workdir, space,
                        job.options.budget_seconds + job.options.grace_seconds)
        runs = Runs(training, space.violations(), space.outputs())
        if job.eval_command and not runs.violations and _finished(training):
            # A fresh copy: the fixed files as the user has them, whatever training did.
            fresh = prepare_workspace(job.project, workdir / "eval", files, job.options.hidden,
                                      outputs=outputs)
            space.hand_over(fresh.root)
            runs = replace(runs, evaluation=_run(job, job.eval_command, workdir, fresh,
                                                 job.options.grace_seconds))
    finally:
        remove_tree(workdir)
    return score(job, runs)


def _finished(result: ProcessResult) -> bool:
    return result.returncode == 0 and not result.timed_out and not result.output_exceeded


def _run(job: CommandJob, command: str, workdir: Path, space: Workspace,
         timeout: float) -> ProcessResult:
    fixed = tuple(space.root / name for name in space.fixed)
    policy = Policy(workdir=space.root, readable=(*space.linked, *fixed),
                    hidden=job.options.hidden, network=job.options.network,
                    gpu=job.options.uses_gpu, extra_writable=(workdir,))
    return run_isolated(_launcher(job, command), policy=policy,
                        env=_environment(job, workdir), timeout=timeout, limits=_limits(job))


def _limits(job: CommandJob) -> Limits:
    options = job.options
    seconds = (options.budget_seconds + 2 * options.grace_seconds) * options.cores + 60
    return replace(options.limits, cpu_seconds=int(seconds))


def _launcher(job: CommandJob, command: str) -> list[str]:
    spec = {"limits": _limits(job).__dict__, "cuda": job.options.uses_gpu}
    return [sys.executable, "-m", "autoresearch.sandbox.launch", json.dumps(spec), "--",
            *command_argv(command)]


def _environment(job: CommandJob, workdir: Path) -> dict[str, str]:
    options = job.options
    env = candidate_environment(job.seed, workdir, options.cores, options.gpus)
    env[BUDGET_ENV] = f"{options.budget_seconds:g}"
    env["PATH"] = interpreter_first(env.get("PATH"))
    # A user's script picks its own device: the device option can only narrow what it sees.
    if options.device == "cpu":
        env["CUDA_VISIBLE_DEVICES"] = ""
    elif options.device.startswith("cuda:") and options.gpus is None:
        env["CUDA_VISIBLE_DEVICES"] = options.device.split(":", 1)[1]
    return env
