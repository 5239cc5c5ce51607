"""Run one seed of one candidate in an isolated subprocess and classify the outcome."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import shutil
import signal
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

import autoresearch
from autoresearch.sandbox.limits import Limits
from autoresearch.sandbox.process import ProcessResult, exit_reason, run_isolated
from autoresearch.storage.records import FailureKind, SeedRun

# What a candidate's environment may inherit; everything else (API keys above all) is dropped.
ENV_ALLOW = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "CUDA_VISIBLE_DEVICES",
             "NVIDIA_VISIBLE_DEVICES", "LD_LIBRARY_PATH")
GRACE_SECONDS = 120.0  # start-up + evaluation on top of the training budget


@dataclass(frozen=True)
class JobOptions:
    """How a seed run is run, whatever the task: the budget, the device, the limits."""

    budget_seconds: float
    device: str = "auto"
    threads: int = 0  # 0: all cores of this machine
    limits: Limits = field(default_factory=Limits)
    grace_seconds: float = GRACE_SECONDS


class Job(Protocol):
    """One seed run of one candidate; plain data, so it can cross to another process or host."""

    seed: int

    def run(self) -> SeedRun: ...


@dataclass(frozen=True)
class SeedJob:
    """Everything a seed run needs; plain data so it can cross to another process or host."""

    code: str
    seed: int
    harness: str
    data_dir: Path
    budget_seconds: float
    device: str = "auto"
    threads: int = 0  # 0: all cores of this machine
    limits: Limits = field(default_factory=Limits)
    grace_seconds: float = GRACE_SECONDS
    keep_workdir: bool = False

    @classmethod
    def of(cls, code: str, seed: int, harness: str, data_dir: Path,
           options: JobOptions) -> SeedJob:
        return cls(code=code, seed=seed, harness=harness, data_dir=data_dir,
                   budget_seconds=options.budget_seconds, device=options.device,
                   threads=options.threads, limits=options.limits,
                   grace_seconds=options.grace_seconds)

    def run(self) -> SeedRun:
        return run_seed(self)


def _environment(job: SeedJob, workdir: Path, threads: int) -> dict[str, str]:
    env = {k: os.environ[k] for k in ENV_ALLOW if k in os.environ}
    src_root = str(Path(autoresearch.__file__).resolve().parent.parent)
    env.update(
        HOME=str(workdir),
        TMPDIR=str(workdir / "tmp"),
        PYTHONPATH=src_root,
        PYTHONHASHSEED=str(job.seed),
        PYTHONDONTWRITEBYTECODE="1",
        PYTHONUNBUFFERED="1",
        OMP_NUM_THREADS=str(threads),
        MKL_NUM_THREADS=str(threads),
        AUTORESEARCH_SEED=str(job.seed),
    )
    return env


class _ChannelReader(threading.Thread):
    """Drains the result pipe; keeps only lines that carry a valid signature."""

    def __init__(self, fd: int, key: bytes, cap: int = 4 * 1024 * 1024) -> None:
        super().__init__(daemon=True)
        self.fd, self.key, self.cap = fd, key, cap
        self.messages: list[dict[str, Any]] = []

    def run(self) -> None:
        buffer = b""
        with os.fdopen(self.fd, "rb", buffering=0) as stream:
            while chunk := stream.read(65536):
                buffer = (buffer + chunk)[-self.cap :]
                *lines, buffer = buffer.split(b"\n")
                for line in lines:
                    self._accept(line)
        self._accept(buffer)

    def _accept(self, line: bytes) -> None:
        tag, _, body = line.partition(b" ")
        expected = hmac.new(self.key, body, hashlib.sha256).hexdigest().encode()
        if body and hmac.compare_digest(tag, expected):
            self.messages.append(json.loads(body))

    def last(self, *kinds: str) -> dict[str, Any] | None:
        found = [m for m in self.messages if m.get("kind") in kinds]
        return found[-1] if found else None


def run_seed(job: SeedJob) -> SeedRun:
    """Run one seed; never raises for anything the candidate does."""
    threads = job.threads or (os.cpu_count() or 1)
    workdir = Path(tempfile.mkdtemp(prefix=f"autoresearch-seed{job.seed}-"))
    (workdir / "tmp").mkdir()
    candidate = workdir / "train.py"
    candidate.write_text(job.code)
    key = secrets.token_bytes(32)
    read_fd, write_fd = os.pipe()
    budget = job.budget_seconds
    limits = replace(job.limits, cpu_seconds=int((budget + job.grace_seconds) * threads + 60))
    spec = {
        "candidate": str(candidate),
        "seed": job.seed,
        "harness": job.harness,
        "data_dir": str(job.data_dir),
        "budget_seconds": budget,
        "device": job.device,
        "threads": threads,
        "limits": limits.__dict__,
        "result_fd": write_fd,
        "key": key.hex(),
        "launched_at": time.time(),
    }
    spec_path = workdir / "spec.json"
    spec_path.write_text(json.dumps(spec))
    spec_path.chmod(0o600)
    reader = _ChannelReader(read_fd, key)
    reader.start()
    timeout = budget + job.grace_seconds
    result = run_isolated(
        [sys.executable, "-m", "autoresearch.sandbox.bootstrap", str(spec_path)],
        cwd=workdir, env=_environment(job, workdir, threads), timeout=timeout,
        log_path=workdir / "output.log", tail_bytes=job.limits.output_bytes,
        pass_fds=(write_fd,),
    )
    reader.join(timeout=5)
    if not job.keep_workdir:
        shutil.rmtree(workdir, ignore_errors=True)
    return _outcome(job, reader, result, timeout)


def _outcome(job: SeedJob, reader: _ChannelReader, result: ProcessResult,
             timeout: float) -> SeedRun:
    started = reader.last("started") or {}
    base = SeedRun(seed=job.seed, failure=None, wall_seconds=result.wall_seconds,
                   peak_rss_mb=result.peak_rss_mb, log_tail=result.log_tail,
                   startup_seconds=float(started.get("startup_seconds", 0.0)))
    final = reader.last("result", "failure")
    if result.timed_out:
        return replace(base, failure=FailureKind.TIMEOUT,
                       reason=f"no result within {timeout:.0f}s (budget + grace); killed")
    if final is None:
        return replace(base, failure=_signal_failure(result.returncode),
                       reason=exit_reason(result.returncode))
    curve = tuple((int(s), float(v)) for s, v in final.get("loss_curve", ()))
    if final["kind"] == "failure":
        return replace(base, failure=FailureKind(final["failure"]), reason=final["reason"],
                       loss_curve=curve)
    metrics = final["metrics"]
    return replace(
        base,
        metric=float(metrics["val"]),
        test_metric=float(metrics["test"]) if "test" in metrics else None,
        train_seconds=float(final["train_seconds"]),
        eval_seconds=float(final.get("eval_seconds", 0.0)),
        steps=int(final.get("steps", 0)),
        loss_curve=curve,
        extra={k: v for k, v in final.items()
               if k not in {"kind", "metrics", "loss_curve", "train_seconds", "eval_seconds",
                            "steps"}},
    )


def _signal_failure(returncode: int | None) -> FailureKind:
    if returncode == -signal.SIGKILL:
        return FailureKind.OOM  # the kernel's OOM killer; we only SIGKILL after a timeout
    return FailureKind.CRASH
