"""Run one seed of one candidate through the task's harness, and classify the outcome."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import sys
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Protocol

from autoresearch.records import FailureKind, SeedRun
from autoresearch.sandbox.channel import SignedReader
from autoresearch.sandbox.environment import candidate_environment
from autoresearch.sandbox.forkserver import ForkServer, ServerKey
from autoresearch.sandbox.isolation import Policy
from autoresearch.sandbox.limits import Limits
from autoresearch.sandbox.process import ProcessResult, exit_reason, run_isolated
from autoresearch.sandbox.sealed import pack_sealed, split_data_files

GRACE_SECONDS = 120.0  # start-up + evaluation on top of the training budget
# Training may overrun the budget by one slow step; beyond this it is cheating the budget.
BUDGET_SLACK_SECONDS, BUDGET_SLACK_FRACTION = 2.0, 0.1
# The parent's own clock also sees model set-up and process teardown, slower on a busy machine.
SETUP_SLACK_SECONDS, SETUP_SLACK_FRACTION = 10.0, 0.5


@dataclass(frozen=True)
class JobOptions:
    """How a seed run is run, whatever the task: the budget, the device, the limits."""

    budget_seconds: float
    device: str = "auto"
    threads: int = 0  # 0: all cores of this machine
    limits: Limits = field(default_factory=Limits)
    grace_seconds: float = GRACE_SECONDS
    hidden: tuple[Path, ...] = ()  # files the run must not see (the store and its WAL)
    network: bool = False
    gpus: str | None = None  # CUDA_VISIBLE_DEVICES of the worker slot, when it owns GPUs

    @property
    def cores(self) -> int:
        return self.threads or (os.cpu_count() or 1)

    @property
    def uses_gpu(self) -> bool:
        if self.device == "cpu":
            return False
        return self.device.startswith("cuda") or bool(
            self.gpus or os.environ.get("CUDA_VISIBLE_DEVICES"))

    def budget_overrun(self, train_seconds: float, outside_seconds: float = 0.0,
                       step_seconds: float = 0.0) -> bool:
        """`train_seconds` by the harness' clock; `outside_seconds` by the parent's clock, from
        launch to result minus start-up and evaluation (a bound the candidate cannot fake);
        `step_seconds` the median step, since the last step may end past the budget."""
        budget = self.budget_seconds
        allowed = budget + max(BUDGET_SLACK_SECONDS, BUDGET_SLACK_FRACTION * budget,
                               2 * step_seconds)
        setup = max(SETUP_SLACK_SECONDS, SETUP_SLACK_FRACTION * budget)
        return train_seconds > allowed or outside_seconds > allowed + setup


class Job(Protocol):
    """One seed run of one candidate; plain data, so it can cross to another process or host."""

    seed: int

    def run(self) -> SeedRun: ...


def new_workdir(seed: int, parent: Path | None = None) -> Path:
    workdir = Path(tempfile.mkdtemp(prefix=f"autoresearch-seed{seed}-", dir=parent))
    (workdir / "tmp").mkdir()
    return workdir


@dataclass(frozen=True)
class SeedJob:
    """A harness run: the bootstrap loads the task's harness, then runs the candidate file."""

    code: str
    seed: int
    harness: str
    data_dir: Path
    options: JobOptions
    keep_workdir: bool = False

    @classmethod
    def of(cls, code: str, seed: int, harness: str, data_dir: Path,
           options: JobOptions) -> SeedJob:
        return cls(code=code, seed=seed, harness=harness, data_dir=data_dir, options=options)

    def run(self) -> SeedRun:
        return run_seed(self)


def server_key(job: SeedJob) -> ServerKey:
    """What a fork server serving this job must have been started with."""
    open_files, _ = split_data_files(job.data_dir)
    options = job.options
    return ServerKey(harness=job.harness, readable=tuple(open_files), hidden=options.hidden,
                     network=options.network, gpu=options.uses_gpu, threads=options.cores,
                     gpus=options.gpus, limits=options.limits)


def run_seed(job: SeedJob, server: ForkServer | None = None) -> SeedRun:
    """Run one seed, forked by `server` when given, else in a fresh interpreter; never raises
    for anything the candidate does."""
    options = job.options
    threads = options.cores
    workdir = new_workdir(job.seed, server.directory if server else None)
    candidate = workdir / "train.py"
    candidate.write_text(job.code)
    key = secrets.token_bytes(32)
    result_read, result_write = os.pipe()
    open_files, sealed = split_data_files(job.data_dir)
    sealed_fd = pack_sealed(sealed)
    budget = options.budget_seconds
    limits = replace(options.limits,
                     cpu_seconds=int((budget + options.grace_seconds) * threads + 60))
    spec = {
        "candidate": str(candidate),
        "seed": job.seed,
        "harness": job.harness,
        "data_dir": str(job.data_dir),
        "budget_seconds": budget,
        "device": options.device,
        "threads": threads,
        "limits": limits.__dict__,
        "result_fd": result_write,
        "sealed_fd": sealed_fd,
        "key": key.hex(),
        "launched_at": time.time(),
    }
    spec_path = workdir / "spec.json"
    spec_path.write_text(json.dumps(spec))
    spec_path.chmod(0o600)
    reader = SignedReader(result_read, key)
    reader.start()
    timeout = budget + options.grace_seconds
    policy = Policy(workdir=workdir, readable=tuple(open_files), hidden=options.hidden,
                    network=options.network, gpu=options.uses_gpu)
    env = candidate_environment(job.seed, workdir, threads, options.gpus)
    if server is not None:
        result = server.run(spec_path, workdir, env, (result_write, sealed_fd), timeout, limits)
    else:
        result = run_isolated(
            [sys.executable, "-m", "autoresearch.sandbox.bootstrap", str(spec_path)],
            policy=policy, env=env, timeout=timeout, limits=limits,
            pass_fds=(result_write, sealed_fd))
    reader.join(timeout=5)
    if not job.keep_workdir:
        shutil.rmtree(workdir, ignore_errors=True)
    return _outcome(job, reader, result, timeout)


def _outcome(job: SeedJob, reader: SignedReader, result: ProcessResult,
             timeout: float) -> SeedRun:
    started = reader.last("started") or {}
    startup = float(started.get("startup_seconds", 0.0))
    base = SeedRun(seed=job.seed, failure=None, wall_seconds=result.wall_seconds,
                   peak_rss_mb=result.peak_rss_mb, log_tail=result.log_tail,
                   startup_seconds=startup, sandbox=result.layers)
    final = reader.last("result", "failure")
    # A verdict that arrived before the deadline stands even if teardown then ran over.
    if result.timed_out and final is None:
        return replace(base, failure=FailureKind.TIMEOUT,
                       reason=f"no result within {timeout:.0f}s (budget + grace); killed")
    if result.output_exceeded or final is None:
        return replace(base, failure=failure_of(result), reason=exit_reason(result))
    curve = tuple((int(s), float(v)) for s, v in final.get("loss_curve", ()))
    if final["kind"] == "failure":
        return replace(base, failure=FailureKind(final["failure"]), reason=final["reason"],
                       loss_curve=curve)
    train = float(final["train_seconds"])
    evaluation = float(final.get("eval_seconds", 0.0))
    # From "candidate code starts" to "result", by the parent's clock, which the candidate
    # cannot touch; start-up and teardown of the interpreter are outside that span.
    began = started.get("received_at", final["received_at"])
    outside = final["received_at"] - began - evaluation
    step = float(final.get("median_step_seconds", 0.0))
    if job.options.budget_overrun(train, outside, step):
        return replace(base, failure=FailureKind.OVER_BUDGET, loss_curve=curve,
                       reason=f"trained {max(train, outside):.1f}s against a "
                              f"{job.options.budget_seconds:g}s budget")
    metrics = final["metrics"]
    return replace(
        base,
        metric=float(metrics["val"]),
        test_metric=float(metrics["test"]) if "test" in metrics else None,
        train_seconds=train,
        eval_seconds=evaluation,
        steps=int(final.get("steps", 0)),
        loss_curve=curve,
        extra={k: v for k, v in final.items()
               if k not in {"kind", "metrics", "loss_curve", "train_seconds", "eval_seconds",
                            "steps", "received_at", "median_step_seconds"}},
    )


def failure_of(result: ProcessResult) -> FailureKind:
    """The failure kind of a process that ended without a verdict of its own."""
    if result.oom_killed:
        return FailureKind.OOM
    if result.output_exceeded:
        return FailureKind.CRASH
    if result.returncode == -signal.SIGKILL and not result.oom_tracked:
        return FailureKind.OOM  # without a cgroup to ask, the kernel's OOM killer, usually
    return FailureKind.CRASH
