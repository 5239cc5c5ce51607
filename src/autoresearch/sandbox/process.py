"""Start one isolated process, wait for it under a deadline, and leave nothing behind.

Shared by every kind of seed run (harness runs and user commands): own session and process
group, stdin closed, stdout+stderr into a file in the work directory, timeout escalating
SIGINT -> SIGTERM -> SIGKILL on the whole group, peak memory from wait4's rusage.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from autoresearch.sandbox.logs import read_tail

ESCALATION = ((signal.SIGINT, 2.0), (signal.SIGTERM, 3.0), (signal.SIGKILL, 0.0))
POLL_SECONDS = 0.05


@dataclass(frozen=True)
class ProcessResult:
    returncode: int | None
    timed_out: bool
    wall_seconds: float
    peak_rss_mb: float
    log_tail: str


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


def run_isolated(argv: list[str], *, cwd: Path, env: dict[str, str], timeout: float,
                 log_path: Path, tail_bytes: int, pass_fds: tuple[int, ...] = ()
                 ) -> ProcessResult:
    started = time.monotonic()
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=log,
                                stderr=subprocess.STDOUT, pass_fds=pass_fds,
                                start_new_session=True)
    for fd in pass_fds:
        os.close(fd)  # the child holds its copy; ours would keep the pipe open forever
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
            _signal_group(proc.pid, proc, ESCALATION)
            if proc.returncode is not None:  # reaped by poll() while escalating
                break
        time.sleep(POLL_SECONDS)
    # Whatever the candidate left running in its group goes with it.
    _signal_group(proc.pid, proc, ((signal.SIGKILL, 0.0),))
    return ProcessResult(
        returncode=proc.returncode,
        timed_out=timed_out,
        wall_seconds=time.monotonic() - started,
        peak_rss_mb=peak_kb / 1024,
        log_tail=read_tail(log_path, tail_bytes),
    )


def exit_reason(returncode: int | None) -> str:
    if returncode is not None and returncode < 0:
        sig = -returncode
        name = signal.Signals(sig).name
        if sig == signal.SIGXFSZ:
            return f"killed by {name}: the run wrote more than its file size limit"
        if sig == signal.SIGXCPU:
            return f"killed by {name}: the run used more than its CPU time limit"
        return f"killed by {name} before reporting a result"
    return f"exited with status {returncode} before reporting a result"
