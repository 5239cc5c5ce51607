"""The parent's side of a warm table worker (worker.py): one per worker slot, started inside
the slot's sandbox, with the table's features handed over once through a memory file. A worker
is started before the table is ready (it imports its libraries meanwhile) and `load` hands the
features over.

`fit` sends one fold: the combo's code in the request; the row indices and the training
labels on a pipe that only the fold process reads; predictions come back on another pipe as
plain numbers (never a pickle). The labels of the rows predicted stay in this process.
"""

from __future__ import annotations

import contextlib
import json
import os
import pickle
import queue
import select
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from autoresearch.pipeline.table import Labelled
from autoresearch.sandbox.environment import candidate_environment
from autoresearch.sandbox.isolation import Policy, detect, wrap
from autoresearch.sandbox.limits import Limits

START_TIMEOUT = 120.0
MAX_ANSWER = 1 << 31


class WorkerDied(RuntimeError):
    """The warm worker could not start or is gone; the executor starts a new one."""


@dataclass(frozen=True)
class Fold:
    """One fit: train on `train` rows, predict `rows` (holdout: rows after the development
    part)."""

    code: str
    seed: int
    train: np.ndarray
    rows: np.ndarray
    y_train: np.ndarray
    proba: bool
    holdout: bool = False


@dataclass(frozen=True)
class Answer:
    predictions: np.ndarray | None
    failure: str | None = None  # a FailureKind value
    reason: str = ""
    slot: str | None = None
    log: str = ""
    seconds: float = 0.0
    peak_rss_mb: float = 0.0


class TableServer:
    def __init__(self, *, preload: tuple[str, ...], threads: int, cpus: tuple[int, ...],
                 limits: Limits, hidden: tuple[Path, ...]) -> None:
        self.threads, self.isolation = threads, detect()
        self.preload, self.limits = preload, limits
        self.workdir = Path(tempfile.mkdtemp(prefix="autoresearch-table-"))
        self.logs = Path(tempfile.mkdtemp(prefix="autoresearch-table-log-"))  # not in the sandbox
        mode = "bwrap" if self.isolation.bwrap else "unshare" if self.isolation.unshare \
            else "none"
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self._sock = ours
        argv = [sys.executable, "-m", "autoresearch.pipeline.worker", str(theirs.fileno()),
                mode]
        env = {**candidate_environment(0, self.workdir, threads), "OMP_WAIT_POLICY": "PASSIVE",
               "TMPDIR": str(self.workdir), "KERAS_BACKEND": "torch"}
        # Memory and process ceilings for the worker and its folds (a fork bomb or a memory
        # hog in slot code ends its own fold), when this machine offers cgroups.
        self._cgroup = None
        if self.isolation.cgroups is not None:
            with contextlib.suppress(OSError):
                self._cgroup = self.isolation.cgroups.create(memory_bytes=limits.memory_bytes,
                                                             pids=limits.processes)
        cgroup = self._cgroup

        def enter() -> None:
            if cgroup is not None:
                cgroup.join()
            if cpus:
                os.sched_setaffinity(0, cpus)

        self._log = open(self.logs / "worker.log", "wb")  # noqa: SIM115
        self._proc = subprocess.Popen(
            wrap(argv, Policy(workdir=self.workdir, hidden=hidden), self.isolation),
            cwd=self.workdir, env=env, stdin=subprocess.DEVNULL, stdout=self._log,
            stderr=self._log, pass_fds=(theirs.fileno(),), start_new_session=True,
            preexec_fn=enter)
        theirs.close()
        self._events: dict[str, queue.SimpleQueue[dict[str, Any]]] = {}
        self._gone = False  # the worker's end of the socket closed: no message will come
        self._lock = threading.Lock()
        threading.Thread(target=self._read, daemon=True).start()

    def load(self, table: Labelled) -> None:
        """Hand the table's features (never a label) to the worker; back when it is ready."""
        data = os.memfd_create("autoresearch-features", 0)
        try:
            with os.fdopen(os.dup(data), "wb") as out:
                pickle.dump({"X_dev": table.X_dev, "X_holdout": table.X_holdout,
                             "kind": table.kind, "metric": table.metric.name,
                             "n_classes": len(table.classes), "preload": self.preload,
                             "limits": {**asdict(self.limits), "cpus": ()}}, out)
            os.lseek(data, 0, os.SEEK_SET)
            socket.send_fds(self._sock, [json.dumps({"table": True}).encode()], [data])
        except OSError as exc:
            raise WorkerDied(f"the table worker is gone: {exc}; {self.log_tail()}") from exc
        finally:
            os.close(data)
        if self._wait("ready", START_TIMEOUT) is None:
            raise WorkerDied(f"the table worker did not start: {self.log_tail()}")

    @property
    def layers(self) -> tuple[str, ...]:
        return (*self.isolation.layers, "warm-table-worker")

    @property
    def alive(self) -> bool:
        return self._proc.poll() is None

    def log_tail(self) -> str:
        with contextlib.suppress(OSError):
            return (self.logs / "worker.log").read_text(errors="replace")[-2000:]
        return ""

    def _queue(self, key: str) -> queue.SimpleQueue[dict[str, Any]]:
        with self._lock:
            if key not in self._events:
                self._events[key] = queue.SimpleQueue()
                if self._gone:  # asked for after the worker died: answered at once
                    self._events[key].put({"dead": True})
            return self._events[key]

    def _read(self) -> None:
        while True:
            try:
                data = self._sock.recv(1 << 16)
            except OSError:
                data = b""
            if not data:
                with self._lock:
                    self._gone = True
                    for q in self._events.values():
                        q.put({"dead": True})
                return
            message = json.loads(data)
            kind = next(iter(message))
            key = kind if kind in ("ready", "started") else f"{kind}:{message[kind]}"
            self._queue(key).put(message)

    def _wait(self, key: str, timeout: float) -> dict[str, Any] | None:
        try:
            message = self._queue(key).get(timeout=max(0.0, timeout))
        except queue.Empty:
            return None
        return None if message.get("dead") else message

    def fit(self, fold: Fold, timeout: float) -> Answer:
        started = time.monotonic()
        in_read, in_write = os.pipe()
        out_read, out_write = os.pipe()
        request = {"code": fold.code, "seed": fold.seed, "threads": self.threads,
                   "proba": fold.proba, "holdout": fold.holdout,
                   "cpu_seconds": int(timeout * self.threads + 30)}
        try:
            socket.send_fds(self._sock, [json.dumps(request).encode()], [in_read, out_write])
        except OSError as exc:
            raise WorkerDied(f"the table worker is gone: {exc}") from exc
        finally:
            os.close(in_read)
            os.close(out_write)
        arrays = [("train", fold.train.astype(np.int64)), ("rows", fold.rows.astype(np.int64)),
                  ("y_train", fold.y_train)]
        threading.Thread(target=_send, args=(in_write, arrays), daemon=True).start()
        begun = self._wait("started", START_TIMEOUT)
        if begun is None:
            os.close(out_read)
            raise WorkerDied(f"the table worker did not start the fold: {self.log_tail()}")
        pid = int(begun["started"])
        raw, timed_out = _receive(out_read, started + timeout)
        if timed_out:
            with contextlib.suppress(OSError):
                self._sock.send(json.dumps({"kill": pid}).encode())
        ended = self._wait(f"exit:{pid}", 30.0)
        if ended is None and not self.alive:
            raise WorkerDied(f"the table worker died during a fold: {self.log_tail()}")
        seconds = time.monotonic() - started
        rss = (ended or {}).get("maxrss_kb", 0) / 1024
        if timed_out:
            return Answer(None, "timeout", f"no predictions within {timeout:g}s; stopped",
                          seconds=seconds, peak_rss_mb=rss)
        return _answer(raw, (ended or {}).get("code"), seconds, rss)

    def close(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self._proc.pid, 9)
        self._proc.wait()
        self._sock.close()
        self._log.close()
        if self._cgroup is not None:
            self._cgroup.remove()
        shutil.rmtree(self.workdir, ignore_errors=True)
        shutil.rmtree(self.logs, ignore_errors=True)


def _send(fd: int, arrays: list[tuple[str, np.ndarray]]) -> None:
    header = {"arrays": [(name, a.dtype.str, a.nbytes) for name, a in arrays]}
    with contextlib.suppress(OSError), os.fdopen(fd, "wb") as out:
        out.write(json.dumps(header).encode() + b"\n")
        for _, array in arrays:
            out.write(np.ascontiguousarray(array).tobytes())


def _receive(fd: int, deadline: float) -> tuple[bytes, bool]:
    chunks: list[bytes] = []
    size = 0
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return b"", True
            ready, _, _ = select.select([fd], [], [], left)
            if not ready:
                continue
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                return b"".join(chunks), False
            size += len(chunk)
            if size > MAX_ANSWER:
                return b"", False
            chunks.append(chunk)
    finally:
        os.close(fd)


def _answer(raw: bytes, exit_code: int | None, seconds: float, rss: float) -> Answer:
    """The fold's answer, read as plain JSON and numbers; anything else is a failure."""
    line, _, payload = raw.partition(b"\n")
    try:
        header = json.loads(line)
    except ValueError:
        reason = f"the fold process ended (exit code {exit_code}) without an answer"
        failure = "oom" if exit_code is not None and exit_code == -9 else "crash"
        return Answer(None, failure, reason, seconds=seconds, peak_rss_mb=rss)
    if not isinstance(header, dict):
        return Answer(None, "crash", "the fold's answer is not an object", seconds=seconds)
    if header.get("failure"):
        return Answer(None, str(header["failure"]), str(header.get("reason", ""))[:500],
                      header.get("slot") if isinstance(header.get("slot"), str) else None,
                      str(header.get("log", ""))[-3000:], seconds, rss)
    shape = header.get("shape")
    if not (isinstance(shape, list) and all(isinstance(n, int) and n >= 0 for n in shape)
            and len(payload) == 8 * int(np.prod(shape))):
        return Answer(None, "crash", "the fold's predictions do not match their shape",
                      seconds=seconds)
    return Answer(np.frombuffer(payload, dtype=np.float64).reshape(shape), seconds=seconds,
                  peak_rss_mb=rss)
