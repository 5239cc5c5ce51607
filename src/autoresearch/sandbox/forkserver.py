"""The framework's side of a worker slot's fork server (see zygote.py).

One fork server per slot and per (task harness, data, resources): it is started inside the
slot's sandbox (the same bubblewrap policy as a plain run, with the slot's directory as the
writable work area) and a per-slot cgroup, and serves that slot's runs one after another. If
it dies (a run killed it, or the kernel's OOM killer chose it), the next run starts a new one.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from autoresearch.sandbox.environment import candidate_environment
from autoresearch.sandbox.isolation import Policy, detect, wrap
from autoresearch.sandbox.limits import Limits
from autoresearch.sandbox.process import ESCALATION, POLL_SECONDS, OutputDrain, ProcessResult, Watch

START_TIMEOUT = 120.0
DIED = 70  # exit code recorded for a run whose fork server died under it


class ForkServerError(RuntimeError):
    """The fork server could not be started or died; the caller falls back or restarts."""


@dataclass(frozen=True)
class ServerKey:
    harness: str
    readable: tuple[Path, ...]
    hidden: tuple[Path, ...]
    network: bool
    gpu: bool
    threads: int
    gpus: str | None
    limits: Limits


class ForkServer:
    def __init__(self, key: ServerKey) -> None:
        self.key = key
        self.isolation = detect()
        self.directory = Path(tempfile.mkdtemp(prefix="autoresearch-slot-"))
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self._sock = ours
        self._cgroup = None
        if self.isolation.cgroups is not None:
            memory = key.limits.gpu_host_memory_bytes if key.gpu else key.limits.memory_bytes
            self._cgroup = self.isolation.cgroups.create(memory_bytes=memory,
                                                         pids=key.limits.processes)
        policy = Policy(workdir=self.directory, readable=key.readable, hidden=key.hidden,
                        network=key.network, gpu=key.gpu)
        sweep = ["sweep"] if (self.isolation.bwrap or self.isolation.unshare) else []
        argv = [sys.executable, "-m", "autoresearch.sandbox.zygote", key.harness,
                str(theirs.fileno()), *sweep]
        cgroup, cpus = self._cgroup, key.limits.cpus

        def enter_slot() -> None:
            if cgroup is not None:
                cgroup.join()
            if cpus:
                os.sched_setaffinity(0, cpus)

        self._log = open(self.directory / "fork-server.log", "wb")  # noqa: SIM115
        self._proc = subprocess.Popen(
            wrap(argv, policy, self.isolation), cwd=self.directory,
            env=candidate_environment(0, self.directory, key.threads, key.gpus),
            stdin=subprocess.DEVNULL, stdout=self._log, stderr=self._log,
            pass_fds=(theirs.fileno(),), start_new_session=True, preexec_fn=enter_slot)
        theirs.close()
        self._events: dict[str, queue.SimpleQueue[dict[str, Any]]] = {}
        self._lock = threading.Lock()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        ready = self._wait("ready", None, START_TIMEOUT)
        if ready is None:
            self.close()
            raise ForkServerError(f"the fork server did not start: {self.log_tail()}")

    def _queue(self, kind: str, pid: int | None) -> queue.SimpleQueue[dict[str, Any]]:
        with self._lock:
            return self._events.setdefault(f"{kind}:{pid}", queue.SimpleQueue())

    def _read(self) -> None:
        while True:
            try:
                data = self._sock.recv(1 << 16)
            except OSError:
                data = b""
            if not data:
                for q in list(self._events.values()):
                    q.put({"dead": True})
                self._queue("ready", None).put({"dead": True})
                return
            message = json.loads(data)
            kind = next(iter(message))
            pid = None if kind in ("ready", "started") else int(message[kind])
            self._queue(kind, pid).put(message)

    def _wait(self, kind: str, pid: int | None, timeout: float) -> dict[str, Any] | None:
        try:
            message = self._queue(kind, pid).get(timeout=max(0.0, timeout))
        except queue.Empty:
            return None
        return None if message.get("dead") else message

    @property
    def alive(self) -> bool:
        return self._proc.poll() is None

    @property
    def layers(self) -> tuple[str, ...]:
        return (*self.isolation.layers, "fork-server")

    def log_tail(self) -> str:
        with contextlib.suppress(OSError):
            return (self.directory / "fork-server.log").read_text(errors="replace")[-2000:]
        return ""

    def run(self, spec_path: Path, workdir: Path, env: dict[str, str], fds: tuple[int, ...],
            timeout: float, limits: Limits, watch: Watch | None = None) -> ProcessResult:
        """Fork one run; the caller's descriptors are handed over (and closed here)."""
        read_end, write_end = os.pipe()
        started = time.monotonic()
        oom_before = self._cgroup.oom_kills() if self._cgroup else 0
        request = {"spec": str(spec_path), "cwd": str(workdir), "env": env}
        try:
            socket.send_fds(self._sock, [json.dumps(request).encode()], [*fds, write_end])
        except OSError as exc:
            raise ForkServerError(f"the fork server is gone: {exc}") from exc
        finally:
            for fd in (*fds, write_end):
                os.close(fd)
        started_message = self._wait("started", None, START_TIMEOUT)
        if started_message is None:
            os.close(read_end)
            raise ForkServerError(f"the fork server did not start the run: {self.log_tail()}")
        pid = int(started_message["started"])
        drain = OutputDrain(read_end, limits.output_bytes, limits.max_output_bytes,
                             lambda: self._signal(pid, signal.SIGKILL))
        drain.start()
        exit_message, stopped, timed_out = None, "", False
        while exit_message is None and self.alive:
            exit_message = self._wait("exit", pid, POLL_SECONDS)
            if exit_message is None and watch is not None and not stopped:
                stopped = watch()
                if stopped:
                    self._signal(pid, signal.SIGKILL)
            if exit_message is None and time.monotonic() - started > timeout:
                timed_out = True
                break
        if timed_out:
            for sig, wait in ESCALATION:
                self._signal(pid, sig)
                exit_message = self._wait("exit", pid, wait or 5.0)
                if exit_message is not None:
                    break
        drain.join(timeout=5)
        oom = bool(self._cgroup and self._cgroup.oom_kills() > oom_before)
        code = None if exit_message is None else int(exit_message["code"])
        if exit_message is None and not self.alive:
            # The server died with the run: the OOM killer's doing, or the run killed it.
            code = -signal.SIGKILL if oom else DIED
        return ProcessResult(
            returncode=code, timed_out=timed_out, wall_seconds=time.monotonic() - started,
            peak_rss_mb=(exit_message or {}).get("maxrss_kb", 0) / 1024,
            log_tail=drain.text(), output_exceeded=drain.exceeded, oom_killed=oom,
            oom_tracked=self._cgroup is not None, layers=self.layers, stopped=stopped)

    def _signal(self, pid: int, sig: int) -> None:
        with contextlib.suppress(OSError):
            self._sock.send(json.dumps({"kill": pid, "signal": int(sig)}).encode())

    def close(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self._proc.pid, signal.SIGKILL)
        self._proc.wait()
        self._sock.close()
        self._log.close()
        if self._cgroup is not None:
            self._cgroup.remove()
        shutil.rmtree(self.directory, ignore_errors=True)
