"""Start one isolated process, wait for it under a deadline, and leave nothing behind.

Shared by every kind of seed run (harness runs and user commands): wrapped in the strongest
isolation the machine allows (isolation.py), own session and process group, in a per-run
cgroup when available, stdin closed, output drained by a thread that keeps a bounded tail and
kills the run when it prints too much, timeout escalating SIGINT -> SIGTERM -> SIGKILL on the
whole group, peak memory from wait4's rusage (or the cgroup's high-water mark).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from autoresearch.sandbox.isolation import Policy, detect, wrap
from autoresearch.sandbox.limits import Limits
from autoresearch.sandbox.logs import sanitize

ESCALATION = ((signal.SIGINT, 2.0), (signal.SIGTERM, 3.0), (signal.SIGKILL, 0.0))
POLL_SECONDS = 0.05


@dataclass(frozen=True)
class ProcessResult:
    returncode: int | None
    timed_out: bool
    wall_seconds: float
    peak_rss_mb: float
    log_tail: str
    output_exceeded: bool = False
    oom_killed: bool = False
    oom_tracked: bool = False  # a cgroup counted OOM kills, so oom_killed is exact
    layers: tuple[str, ...] = ()
    stopped: str = ""  # why the parent ended the run early (its watch said so), if it did


class OutputDrain(threading.Thread):
    """Reads the child's output; keeps the last `tail` bytes, flags more than `cap` in all."""

    def __init__(self, stream: int, tail: int, cap: int, on_exceeded: Callable[[], None]
                 ) -> None:
        super().__init__(daemon=True)
        self.stream, self.tail, self.cap, self.on_exceeded = stream, tail, cap, on_exceeded
        self.buffer = bytearray()
        self.total = 0
        self.exceeded = False

    def run(self) -> None:
        with os.fdopen(self.stream, "rb", buffering=0) as handle:
            while chunk := handle.read(65536):
                self.total += len(chunk)
                self.buffer += chunk
                if len(self.buffer) > 2 * self.tail:
                    del self.buffer[: len(self.buffer) - self.tail]
                if self.total > self.cap and not self.exceeded:
                    self.exceeded = True
                    self.on_exceeded()

    def text(self) -> str:
        raw = bytes(self.buffer[-self.tail :]).decode("utf-8", errors="replace")
        if self.exceeded:
            raw += f"\n[output limit of {self.cap} bytes exceeded: run killed]\n"
        return sanitize(raw, self.tail)


def _signal_group(pgid: int, proc: subprocess.Popen[bytes], steps: tuple[tuple[int, float], ...]
                  ) -> None:
    for sig, wait in steps:
        try:
            os.killpg(pgid, sig)
        except ProcessLookupError:
            return
        end = time.monotonic() + wait
        while proc.poll() is None and time.monotonic() < end:
            time.sleep(POLL_SECONDS)


def _kill_group(pgid: int) -> None:
    """Kills without reaping: only the main thread waits, so its wait4 keeps the exit status."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)


Watch = Callable[[], str]  # polled while a run goes on: a reason to end it now, or ""


def run_isolated(argv: list[str], *, policy: Policy, env: dict[str, str], timeout: float,
                 limits: Limits, pass_fds: tuple[int, ...] = (),
                 watch: Watch | None = None) -> ProcessResult:
    isolation = detect()
    cgroup = None
    if isolation.cgroups is not None:
        cgroup = isolation.cgroups.create(
            memory_bytes=limits.memory_bytes if not policy.gpu else limits.gpu_host_memory_bytes,
            pids=limits.processes)
    started = time.monotonic()
    read_end, write_end = os.pipe()
    def enter_slot() -> None:  # in the child, between fork and exec: inherited from there on
        if cgroup is not None:
            cgroup.join()
        if limits.cpus:
            os.sched_setaffinity(0, limits.cpus)

    try:
        proc = subprocess.Popen(
            wrap(argv, policy, isolation), cwd=policy.workdir, env=env,
            stdin=subprocess.DEVNULL, stdout=write_end, stderr=write_end, pass_fds=pass_fds,
            start_new_session=True,
            preexec_fn=enter_slot if cgroup is not None or limits.cpus else None,
        )
    finally:
        os.close(write_end)
        for fd in pass_fds:
            os.close(fd)  # the child holds its copy; ours would keep pipes open forever
    drain = OutputDrain(read_end, limits.output_bytes, limits.max_output_bytes,
                         lambda: _kill_group(proc.pid))
    drain.start()
    timed_out = False
    stopped = ""
    peak_kb = 0
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            proc.returncode = os.waitstatus_to_exitcode(status)
            peak_kb = usage.ru_maxrss
            break
        if watch is not None and not stopped:
            stopped = watch()
            if stopped:
                _kill_group(proc.pid)
        if not timed_out and time.monotonic() - started > timeout:
            timed_out = True
            _signal_group(proc.pid, proc, ESCALATION)
            if proc.returncode is not None:  # reaped by poll() while escalating
                break
        time.sleep(POLL_SECONDS)
    # Whatever the candidate left running in its group, or anywhere in its cgroup, goes too.
    _signal_group(proc.pid, proc, ((signal.SIGKILL, 0.0),))
    oom = False
    if cgroup is not None:
        oom = cgroup.oom_kills() > 0
        # wait4 sees only the outermost process (bwrap); the cgroup saw them all.
        peak_kb = max(peak_kb, (cgroup.peak_bytes() or 0) // 1024)
        cgroup.remove()
    drain.join(timeout=5)
    return ProcessResult(
        returncode=proc.returncode,
        timed_out=timed_out,
        wall_seconds=time.monotonic() - started,
        peak_rss_mb=peak_kb / 1024,
        log_tail=drain.text(),
        output_exceeded=drain.exceeded,
        oom_killed=oom,
        oom_tracked=cgroup is not None,
        layers=isolation.layers,
        stopped=stopped,
    )


def exit_reason(result: ProcessResult) -> str:
    if result.output_exceeded:
        return "printed more than the output limit; killed"
    if result.oom_killed:
        return "exceeded its memory limit; killed by the kernel"
    code = result.returncode
    if code is not None and code < 0:
        sig = -code
        name = signal.Signals(sig).name
        if sig == signal.SIGXFSZ:
            return f"killed by {name}: the run wrote more than its file size limit"
        if sig == signal.SIGXCPU:
            return f"killed by {name}: the run used more than its CPU time limit"
        return f"killed by {name} before reporting a result"
    return f"exited with status {code} before reporting a result"
