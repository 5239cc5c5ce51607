"""Run one seed of one candidate in an isolated subprocess and classify the outcome."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import autoresearch
from autoresearch.sandbox.limits import Limits
from autoresearch.sandbox.logs import read_tail
from autoresearch.storage.records import FailureKind, SeedRun

# What a candidate's environment may inherit; everything else (API keys above all) is dropped.
ENV_ALLOW = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "CUDA_VISIBLE_DEVICES",
             "NVIDIA_VISIBLE_DEVICES", "LD_LIBRARY_PATH")
GRACE_SECONDS = 120.0  # start-up + evaluation on top of the training budget
ESCALATION = ((signal.SIGINT, 2.0), (signal.SIGTERM, 3.0), (signal.SIGKILL, 0.0))


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


def _kill_group(pgid: int, proc: subprocess.Popen[bytes], deadline_hit: bool) -> None:
    """SIGINT -> SIGTERM -> SIGKILL to the whole process group, leaving no orphan in it."""
    steps = ESCALATION if deadline_hit else ((signal.SIGKILL, 0.0),)
    for sig, wait in steps:
        try:
            os.killpg(pgid, sig)
        except ProcessLookupError:
            return
        end = time.monotonic() + wait
        while proc.poll() is None and time.monotonic() < end:
            time.sleep(0.05)


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
    log_path = workdir / "output.log"
    started = time.monotonic()
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "autoresearch.sandbox.bootstrap", str(spec_path)],
            cwd=workdir,
            env=_environment(job, workdir, threads),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            pass_fds=(write_fd,),
            start_new_session=True,
        )
    os.close(write_fd)
    reader = _ChannelReader(read_fd, key)
    reader.start()
    timeout = budget + job.grace_seconds
    timed_out = False
    peak_kb = 0
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            proc.returncode = os.waitstatus_to_exitcode(status)
            peak_kb = usage.ru_maxrss
            break
        if not timed_out and time.monotonic() - started > timeout:
            timed_out = True
            _kill_group(proc.pid, proc, deadline_hit=True)
            if proc.returncode is not None:  # reaped by poll() while escalating
                break
        time.sleep(0.05)
    _kill_group(proc.pid, proc, deadline_hit=False)  # anything the candidate left behind
    wall = time.monotonic() - started
    reader.join(timeout=5)
    tail = read_tail(log_path, job.limits.output_bytes)
    if not job.keep_workdir:
        shutil.rmtree(workdir, ignore_errors=True)
    return _outcome(job, reader, proc.returncode, timed_out, wall, peak_kb / 1024, tail, timeout)


def _outcome(job: SeedJob, reader: _ChannelReader, returncode: int | None, timed_out: bool,
             wall: float, peak_mb: float, tail: str, timeout: float) -> SeedRun:
    started = reader.last("started") or {}
    base = SeedRun(seed=job.seed, failure=None, wall_seconds=wall, peak_rss_mb=peak_mb,
                   log_tail=tail, startup_seconds=float(started.get("startup_seconds", 0.0)))
    final = reader.last("result", "failure")
    if timed_out:
        return replace(base, failure=FailureKind.TIMEOUT,
                       reason=f"no result within {timeout:.0f}s (budget + grace); killed")
    if final is None:
        return replace(base, failure=_signal_failure(returncode),
                       reason=_exit_reason(returncode))
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


def _exit_reason(returncode: int | None) -> str:
    if returncode is not None and returncode < 0:
        name = signal.Signals(-returncode).name
        if -returncode == signal.SIGXFSZ:
            return f"killed by {name}: the run wrote more than its file size limit"
        if -returncode == signal.SIGXCPU:
            return f"killed by {name}: the run used more than its CPU time limit"
        return f"killed by {name} before reporting a result"
    return f"exited with status {returncode} before reporting a result"
