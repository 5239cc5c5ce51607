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

import autoresearch
from autoresearch.sandbox.channel import SignedReader
from autoresearch.sandbox.isolation import Policy
from autoresearch.sandbox.limits import Limits
from autoresearch.sandbox.process import ProcessResult, exit_reason, run_isolated
from autoresearch.sandbox.sealed import pack_sealed, split_data_files
from autoresearch.storage.records import FailureKind, SeedRun

# What a candidate's environment may inherit; everything else (API keys above all) is dropped.
ENV_ALLOW = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "CUDA_VISIBLE_DEVICES",
             "NVIDIA_VISIBLE_DEVICES", "LD_LIBRARY_PATH")
GRACE_SECONDS = 120.0  # start-up + evaluation on top of the training budget
# Training may overrun the budget by one slow step; beyond this it is cheating the budget.
BUDGET_SLACK_SECONDS, BUDGET_SLACK_FRACTION = 2.0, 0.1


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

    @property
    def cores(self) -> int:
        return self.threads or (os.cpu_count() or 1)

    @property
    def uses_gpu(self) -> bool:
        return self.device.startswith("cuda") or (
            self.device == "auto" and bool(os.environ.get("CUDA_VISIBLE_DEVICES")))

    def budget_overrun(self, train_seconds: float) -> bool:
        allowed = max(BUDGET_SLACK_SECONDS, BUDGET_SLACK_FRACTION * self.budget_seconds)
        return train_seconds > self.budget_seconds + allowed


class Job(Protocol):
    """One seed run of one candidate; plain data, so it can cross to another process or host."""

    seed: int

    def run(self) -> SeedRun: ...


def candidate_environment(seed: int, workdir: Path, threads: int) -> dict[str, str]:
    """The whole environment of a run: an allow-list of the parent's plus our own values."""
    env = {k: os.environ[k] for k in ENV_ALLOW if k in os.environ}
    env.update(
        HOME=str(workdir),
        TMPDIR=str(workdir / "tmp"),
        PYTHONPATH=str(Path(autoresearch.__file__).resolve().parent.parent),
        PYTHONHASHSEED=str(seed),
        PYTHONDONTWRITEBYTECODE="1",
        PYTHONUNBUFFERED="1",
        OMP_NUM_THREADS=str(threads),
        MKL_NUM_THREADS=str(threads),
        AUTORESEARCH_SEED=str(seed),
    )
    return env


def new_workdir(seed: int) -> Path:
    workdir = Path(tempfile.mkdtemp(prefix=f"autoresearch-seed{seed}-"))
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


def run_seed(job: SeedJob) -> SeedRun:
    """Run one seed; never raises for anything the candidate does."""
    options = job.options
    threads = options.cores
    workdir = new_workdir(job.seed)
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
    result = run_isolated(
        [sys.executable, "-m", "autoresearch.sandbox.bootstrap", str(spec_path)],
        policy=policy, env=candidate_environment(job.seed, workdir, threads), timeout=timeout,
        limits=limits, pass_fds=(result_write, sealed_fd),
    )
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
    if result.timed_out:
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
    # The child's own clock could be faked; the parent's wall clock cannot.
    outside = result.wall_seconds - startup - evaluation
    if job.options.budget_overrun(train) or job.options.budget_overrun(outside - 5.0):
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
                            "steps"}},
    )


def failure_of(result: ProcessResult) -> FailureKind:
    """The failure kind of a process that ended without a verdict of its own."""
    if result.oom_killed:
        return FailureKind.OOM
    if result.output_exceeded:
        return FailureKind.CRASH
    if result.returncode == -signal.SIGKILL:
        return FailureKind.OOM  # the kernel's OOM killer; we only SIGKILL after a timeout
    return FailureKind.CRASH
