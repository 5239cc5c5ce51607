"""The parent side of pipeline workers: run batches of combos in sandboxed processes.

A batch runs in one worker process (data loaded once, feature outputs cached); `workers`
batches run side by side. A worker that dies takes only the combo it was running: that combo
is recorded with the process' fate and the rest of its batch goes to a fresh worker.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

from autoresearch.pipeline.table import DEV_FILE, HOLDOUT_FILE, META_FILE, Table
from autoresearch.records import FailureKind
from autoresearch.sandbox.channel import SignedReader
from autoresearch.sandbox.isolation import Policy
from autoresearch.sandbox.limits import Limits
from autoresearch.sandbox.process import ProcessResult, exit_reason, run_isolated
from autoresearch.sandbox.runner import candidate_environment, failure_of, new_workdir
from autoresearch.sandbox.sealed import pack_sealed

STARTUP_SECONDS = 60.0  # interpreter, imports and data loading, on top of the combos' limits


@dataclass(frozen=True)
class WorkerOptions:
    timeout: float = 300.0  # per combo
    workers: int = 1
    threads: int = 0  # per worker; 0: the cores divided among the workers
    limits: Limits = field(default_factory=Limits)
    hidden: tuple[Path, ...] = ()  # files the workers must not see (the store)

    def threads_per_worker(self) -> int:
        return self.threads or max(1, (os.cpu_count() or 1) // max(1, self.workers))


@dataclass(frozen=True)
class Job:
    id: str
    code: str
    cache_key: tuple[str, str]  # hashes of the load_data and engineer_features sources
    holdout: bool = False


@dataclass(frozen=True)
class JobResult:
    id: str
    repeats: tuple[float, ...] = ()
    folds: tuple[float, ...] = ()
    seeds: tuple[int, ...] = ()
    holdout: float | None = None
    failure: FailureKind | None = None
    reason: str = ""
    slot: str | None = None
    wall_seconds: float = 0.0
    startup_seconds: float = 0.0
    peak_rss_mb: float = 0.0
    log_tail: str = ""
    sandbox: tuple[str, ...] = ()
    cache_hits: int = 0


def run_jobs(table: Table, jobs: list[Job], options: WorkerOptions) -> dict[str, JobResult]:
    """Every job gets a result; nothing a combo does raises here."""
    if not jobs:
        return {}
    n = max(1, min(options.workers, len(jobs)))
    chunks = [jobs[i::n] for i in range(n)]
    with ThreadPoolExecutor(max_workers=n, thread_name_prefix="pipeline-worker") as pool:
        parts = list(pool.map(lambda chunk: _run_chunk(table, chunk, options), chunks))
    return {k: v for part in parts for k, v in part.items()}


def _run_chunk(table: Table, jobs: list[Job], options: WorkerOptions) -> dict[str, JobResult]:
    results: dict[str, JobResult] = {}
    pending = list(jobs)
    while pending:
        messages, process = _run_process(table, pending, options)
        started = next((m for m in messages if m["kind"] == "started"), {})
        begun = [m["id"] for m in messages if m["kind"] == "begin"]
        for m in messages:
            if m["kind"] in ("result", "holdout", "failure") and "id" in m:
                results[m["id"]] = _result(m, process, float(started.get("startup_seconds", 0)))
        unfinished = [j for j in pending if j.id not in results]
        in_flight = next((j for j in unfinished if j.id in begun), None)
        victims = [in_flight] if in_flight is not None else unfinished
        for job in victims:
            results[job.id] = _died(job, process)
        pending = [j for j in unfinished if j not in victims]
    return results


def _result(message: dict, process: ProcessResult, startup: float) -> JobResult:
    base = JobResult(id=message["id"], wall_seconds=float(message.get("wall_seconds", 0.0)),
                     startup_seconds=startup, peak_rss_mb=process.peak_rss_mb,
                     sandbox=process.layers, cache_hits=int(message.get("cache_hits", 0)))
    if message["kind"] == "failure":
        return replace(base, failure=FailureKind(message["failure"]), reason=message["reason"],
                       slot=message.get("slot"), log_tail=process.log_tail)
    if message["kind"] == "holdout":
        return replace(base, holdout=float(message["value"]))
    return replace(base, repeats=tuple(float(v) for v in message["repeats"]),
                   folds=tuple(float(v) for v in message["folds"]),
                   seeds=tuple(int(s) for s in message["seeds"]))


def _died(job: Job, process: ProcessResult) -> JobResult:
    if process.timed_out:
        failure, reason = FailureKind.TIMEOUT, "the worker ran past its time limit; killed"
    else:
        failure, reason = failure_of(process), exit_reason(process)
    return JobResult(id=job.id, failure=failure, reason=reason, log_tail=process.log_tail,
                     peak_rss_mb=process.peak_rss_mb, sandbox=process.layers,
                     wall_seconds=process.wall_seconds)


def _run_process(table: Table, jobs: list[Job], options: WorkerOptions
                 ) -> tuple[list[dict], ProcessResult]:
    threads = options.threads_per_worker()
    workdir = new_workdir(0)
    try:
        specs = []
        for i, job in enumerate(jobs):
            path = workdir / f"combo_{i}.py"
            path.write_text(job.code)
            specs.append({"id": job.id, "file": str(path), "cache_key": list(job.cache_key),
                          "timeout": options.timeout, "holdout": job.holdout})
        key = secrets.token_bytes(32)
        result_read, result_write = os.pipe()
        fds = [result_write]
        sealed_fd = None
        if any(j.holdout for j in jobs):
            sealed_fd = pack_sealed([table.directory / HOLDOUT_FILE])
            fds.append(sealed_fd)
        timeout = STARTUP_SECONDS + options.timeout * len(jobs)
        limits = replace(options.limits, cpu_seconds=int(timeout * threads + 60))
        spec = {"data_dir": str(table.directory), "threads": threads, "jobs": specs,
                "limits": limits.__dict__, "result_fd": result_write, "sealed_fd": sealed_fd,
                "key": key.hex(), "launched_at": time.time()}
        spec_path = workdir / "spec.json"
        spec_path.write_text(json.dumps(spec))
        spec_path.chmod(0o600)
        reader = SignedReader(result_read, key)
        reader.start()
        readable = tuple(table.directory / f for f in (DEV_FILE, META_FILE))
        policy = Policy(workdir=workdir, readable=(table.directory, *readable),
                        hidden=(*options.hidden, table.directory / HOLDOUT_FILE))
        process = run_isolated(
            [sys.executable, "-m", "autoresearch.pipeline.worker", str(spec_path)],
            policy=policy, env=candidate_environment(0, workdir, threads), timeout=timeout,
            limits=limits, pass_fds=tuple(fds))
        reader.join(timeout=5)
        return reader.messages, process
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
