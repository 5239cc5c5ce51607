"""One seed of one candidate: train in a sandboxed run, hand the model over, score it apart.

Three trust domains meet here. The run (candidate code, sandboxed) trains and hands over its
model as an exported graph; it never holds the sealed splits, a key or a way to report a
metric. The parent (this module) owns the clock: the training data is handed out only on
request, which starts the clock (at the latest after a set-up allowance), and the model must
arrive by the budget plus a small slack, or the run is killed as over budget. The evaluator
(evaluator/) alone holds the sealed splits and scores the model.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

from autoresearch.records import FailureKind, SeedRun
from autoresearch.sandbox.channel import ChannelClosed, pair, receive, send_fd
from autoresearch.sandbox.environment import candidate_environment
from autoresearch.sandbox.evaluator.client import Evaluation, Evaluator, EvaluatorKey
from autoresearch.sandbox.forkserver import ForkServer, ServerKey
from autoresearch.sandbox.isolation import Policy
from autoresearch.sandbox.limits import (
    CPU_BUDGET_WALL_FACTOR,
    Limits,
    budget_slack,
    setup_allowance,
)
from autoresearch.sandbox.load import Share, busy_seconds, cores_of, share
from autoresearch.sandbox.process import ProcessResult, exit_reason, run_isolated
from autoresearch.sandbox.sealed import pack_files, split_data_files

GRACE_SECONDS = 120.0  # start-up, and the evaluation, on top of the training budget


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
    # Others' load on the run's cores above which a run is interfered, not judged (None:
    # off; the CLI turns it on, see load.MAX_FOREIGN_LOAD).
    max_foreign_load: float | None = None
    # "wall": seconds of training; "cpu": CPU seconds of the training process (all threads),
    # fair across machines and loads (the study records which).
    budget_unit: str = "wall"

    @property
    def cores(self) -> int:
        return self.threads or (os.cpu_count() or 1)

    @property
    def uses_gpu(self) -> bool:
        if self.device == "cpu":
            return False
        return self.device.startswith("cuda") or bool(
            self.gpus or os.environ.get("CUDA_VISIBLE_DEVICES"))


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
    """A harness run: the bootstrap loads the task's harness, then runs the candidate file;
    the task's scoring module scores the handed-over model in the evaluator."""

    code: str
    seed: int
    harness: str
    scoring: str
    data_dir: Path
    options: JobOptions
    keep_workdir: bool = False

    @property
    def hidden(self) -> tuple[Path, ...]:
        """No data file is visible to a run: the training split arrives in memory."""
        return (*self.options.hidden, self.data_dir)

    def run(self) -> SeedRun:
        return run_seed(self)


def server_key(job: SeedJob) -> ServerKey:
    """What a fork server serving this job must have been started with."""
    options = job.options
    return ServerKey(harness=job.harness, readable=(), hidden=job.hidden,
                     network=options.network, gpu=options.uses_gpu, threads=options.cores,
                     gpus=options.gpus, limits=options.limits)


def evaluator_key(job: SeedJob) -> EvaluatorKey:
    options = job.options
    return EvaluatorKey(scoring=job.scoring, sealed=tuple(split_data_files(job.data_dir)[1]),
                        device=options.device, threads=options.cores, gpu=options.uses_gpu,
                        gpus=options.gpus, hidden=job.hidden, limits=options.limits)


@dataclass(frozen=True)
class _Mark:
    at: float  # the parent's clock
    cpu: float  # the run's own CPU seconds: its word
    busy: float | None  # its cores' busy seconds, from /proc/stat


class _Conversation(threading.Thread):
    """The parent's side of a run's channel, and the parent's clock of that run."""

    def __init__(self, sock: socket.socket, data_fd: int, budget: float,
                 cores: tuple[int, ...], wall_budget: float) -> None:
        super().__init__(daemon=True)
        self.sock, self.data_fd, self.budget, self.cores = sock, data_fd, budget, cores
        self.wall_budget = wall_budget  # the budget itself, or a wall bound of a CPU budget
        self.launched = time.monotonic()
        # CPU marks by message kind ("launch", "start", "model") and the latest one ("last").
        # A run's CPU time counts from its fork, so at launch it is 0.
        self.marks = {"launch": _Mark(self.launched, 0.0, busy_seconds(cores))}
        self.started_at: float | None = None  # the training clock
        self.handed_over: float | None = None
        self.startup_seconds = 0.0
        self.model: dict[str, Any] | None = None
        self.payload = b""
        self.failure: dict[str, Any] | None = None

    @property
    def clock_start(self) -> float:
        return self.started_at or self.launched + setup_allowance(self.budget)

    @property
    def deadline(self) -> float:
        return self.clock_start + self.wall_budget + budget_slack(self.budget)

    def watch(self) -> str:
        if self.handed_over is not None:
            return "handed over"
        return "over budget" if time.monotonic() > self.deadline else ""

    def run(self) -> None:
        while True:
            try:
                header, payload = receive(self.sock)
            except ChannelClosed:
                return
            now = time.monotonic()
            kind = header.get("kind")
            if kind == "start" and self.started_at is None:
                self.started_at = min(now, self.clock_start)
                self._mark("start", now, header)
                try:
                    send_fd(self.sock, {"elapsed": now - self.started_at}, self.data_fd)
                except OSError:
                    return
            elif kind == "model" and self.handed_over is None:
                self.handed_over, self.model, self.payload = now, header, payload
                self._mark("model", now, header)
                return
            else:  # "started", "exporting", "failure": how far it got, and its CPU then
                if kind == "started":
                    self.startup_seconds = now - self.launched
                elif kind == "failure":
                    self.failure = header
                self._mark("last", now, header)

    def _mark(self, kind: str, now: float, header: dict[str, Any]) -> None:
        cpu = header.get("cpu")
        if isinstance(cpu, int | float) and not isinstance(cpu, bool):
            mark = _Mark(now, float(cpu), busy_seconds(self.cores))
            self.marks[kind] = self.marks["last"] = mark

    def train_cpu_seconds(self) -> float | None:
        if "start" not in self.marks or "model" not in self.marks:
            return None
        return self.marks["model"].cpu - self.marks["start"].cpu

    def share(self, threads: int, since: str = "start", until: str = "model") -> Share | None:
        """The CPU the run got between two marks, by default while it trained (None when it
        cannot be told)."""
        first, last = self.marks.get(since), self.marks.get(until)
        if first is None or last is None or first.busy is None or last.busy is None:
            return None
        return share(last.at - first.at, last.cpu - first.cpu, last.busy - first.busy,
                     len(self.cores), threads)


def run_seed(job: SeedJob, server: ForkServer | None = None,
             evaluator: Evaluator | None = None) -> SeedRun:
    """Run one seed, forked by `server` when given, else in a fresh interpreter, then score its
    model with `evaluator` (a temporary one when not given); never raises for anything the
    candidate does."""
    options = job.options
    workdir = new_workdir(job.seed, server.directory if server else None)
    candidate = workdir / "train.py"
    candidate.write_text(job.code)
    ours, theirs = pair()
    child_fd = theirs.detach()  # handed to the run; whoever starts it closes our copy
    budget = options.budget_seconds
    if options.budget_unit == "cpu":  # the kernel enforces it: SIGXCPU past the budget
        cpu_limit = setup_allowance(budget) + budget + budget_slack(budget)
        # Past the kernel's limit for a run that gets a core: the kernel stops a spinning run.
        wall_budget = CPU_BUDGET_WALL_FACTOR * budget + cpu_limit
    else:
        wall_budget = budget
        cpu_limit = (setup_allowance(budget) + budget + options.grace_seconds) * options.cores + 60
    limits = replace(options.limits, cpu_seconds=int(cpu_limit))
    spec = {"candidate": str(candidate), "seed": job.seed, "harness": job.harness,
            "budget_seconds": budget, "budget_unit": options.budget_unit,
            "device": options.device, "threads": options.cores,
            "limits": limits.__dict__, "channel_fd": child_fd}
    spec_path = workdir / "spec.json"
    spec_path.write_text(json.dumps(spec))
    spec_path.chmod(0o600)
    data_fd = pack_files(split_data_files(job.data_dir)[0])
    conversation = _Conversation(ours, data_fd, budget, cores_of(options.limits.cpus),
                                 wall_budget)
    conversation.start()
    timeout = setup_allowance(budget) + wall_budget + budget_slack(budget) + options.grace_seconds
    env = candidate_environment(job.seed, workdir, options.cores, options.gpus)
    if server is not None:
        result = server.run(spec_path, workdir, env, (child_fd,), timeout,
                            limits, conversation.watch)
    else:
        policy = Policy(workdir=workdir, hidden=job.hidden, network=options.network,
                        gpu=options.uses_gpu)
        result = run_isolated(
            [sys.executable, "-m", "autoresearch.sandbox.bootstrap", str(spec_path)],
            policy=policy, env=env, timeout=timeout, limits=limits,
            pass_fds=(child_fd,), watch=conversation.watch)
    conversation.join(timeout=5)
    ours.close()
    os.close(data_fd)
    if not job.keep_workdir:
        shutil.rmtree(workdir, ignore_errors=True)
    run = _trained(job, conversation, result)
    if run.failure in (FailureKind.OVER_BUDGET, FailureKind.TIMEOUT):
        # Past its deadline: not the candidate's fault when others took its cores from its
        # launch to its last word (set-up, a step and the export all slow down).
        return _measured(run, conversation.share(options.cores, "launch", "last"), options,
                         "ran")
    if run.failure is not None or conversation.model is None:
        return run
    run = _measured(run, conversation.share(options.cores), options, "trained")
    if run.failure is not None:  # the verdict must not rest on what a starved run trained
        return run
    owned = evaluator is None
    evaluator = evaluator or Evaluator(evaluator_key(job))
    try:
        evaluation = evaluator.evaluate(conversation.payload,
                                        dict(conversation.model.get("declared") or {}),
                                        options.grace_seconds)
    finally:
        if owned:
            evaluator.close()
    return _scored(run, evaluation)


def _trained(job: SeedJob, talk: _Conversation, result: ProcessResult) -> SeedRun:
    """The training half of a seed run: a failure, or the hand-over's times and curve."""
    said = talk.model or talk.failure or {}
    curve = tuple((int(s), float(v)) for s, v in said.get("loss_curve", ()))[:1000]
    base = SeedRun(seed=job.seed, failure=None, wall_seconds=result.wall_seconds,
                   peak_rss_mb=result.peak_rss_mb, log_tail=result.log_tail,
                   startup_seconds=talk.startup_seconds, sandbox=result.layers, loss_curve=curve)
    budget, cpu_budget = job.options.budget_seconds, job.options.budget_unit == "cpu"
    if talk.model is not None and talk.handed_over is not None \
            and talk.handed_over <= talk.deadline:
        steps = said.get("steps")
        cpu = talk.train_cpu_seconds()
        return replace(base, train_seconds=talk.handed_over - talk.clock_start,
                       steps=steps if isinstance(steps, int) and steps >= 0 else 0,
                       extra={} if cpu is None else {"train_cpu_seconds": round(cpu, 3)})
    # Under bubblewrap its init reports the signal as an exit status of 128 + signal.
    if cpu_budget and result.returncode in (-signal.SIGXCPU, 128 + signal.SIGXCPU):
        return replace(base, failure=FailureKind.OVER_BUDGET,
                       reason=f"used more than its CPU budget ({budget:g} CPU seconds + "
                              "set-up + slack); killed")
    if cpu_budget and result.stopped == "over budget":
        return replace(base, failure=FailureKind.TIMEOUT,
                       reason=f"no model handed over within {talk.wall_budget:.0f}s of wall "
                              f"time for a {budget:g} CPU-second budget (is the machine "
                              "busy?); killed")
    if result.stopped == "over budget" or talk.model is not None:
        allowed = budget + budget_slack(budget)
        return replace(base, failure=FailureKind.OVER_BUDGET,
                       reason=f"no model handed over within {allowed:.1f}s of training "
                              f"(budget {budget:g}s + slack); killed")
    if result.timed_out:
        return replace(base, failure=FailureKind.TIMEOUT,
                       reason="no result within the time limit; killed")
    if result.output_exceeded or talk.failure is None:
        return replace(base, failure=failure_of(result), reason=exit_reason(result))
    try:
        kind = FailureKind(talk.failure.get("failure"))
    except ValueError:
        kind = FailureKind.CRASH
    return replace(base, failure=kind, reason=str(talk.failure.get("reason", ""))[:2000])


def _measured(run: SeedRun, got: Share | None, options: JobOptions, while_it: str
              ) -> SeedRun:
    """The run with the CPU it got; interfered, never judged (the loop runs it again later),
    when other processes took more of its cores than `max_foreign_load`."""
    if got is None:
        return run
    run = replace(run, cpu_share=round(got.cpu_share, 4),
                  extra={**run.extra, "foreign_load": round(got.foreign_load, 4)})
    if not got.interfered(options.max_foreign_load):
        return run
    return replace(run, failure=FailureKind.INTERFERED,
                   reason=f"{run.reason + '; but ' if run.reason else ''}"
                          f"{got.describe(while_it)}; not judged: re-run when the machine is "
                          f"quieter (--max-foreign-load {options.max_foreign_load:g})")


def _scored(run: SeedRun, evaluation: Evaluation) -> SeedRun:
    if evaluation.metrics is None:
        return replace(run, failure=evaluation.failure or FailureKind.CRASH,
                       reason=evaluation.reason)
    metrics = evaluation.metrics
    if not all(v == v and abs(v) != float("inf") for v in metrics.values()):
        return replace(run, failure=FailureKind.DIVERGENCE,
                       reason=f"metric is not finite: {metrics}")
    return replace(run, metric=metrics["val"], test_metric=metrics.get("test"),
                   eval_seconds=evaluation.eval_seconds,
                   extra={**run.extra, "params": evaluation.params})


def failure_of(result: ProcessResult) -> FailureKind:
    """The failure kind of a process that ended without a verdict of its own."""
    if result.oom_killed:
        return FailureKind.OOM
    if result.output_exceeded:
        return FailureKind.CRASH
    if result.returncode == -signal.SIGKILL and not result.oom_tracked:
        return FailureKind.OOM  # without a cgroup to ask, the kernel's OOM killer, usually
    return FailureKind.CRASH
