"""The parent's handle on an evaluator process: start it, send models, restart it if it dies.

One evaluator serves the runs of one worker slot (or one `eval`), so the sealed splits are
loaded once and torch is imported once. Evaluations are sequential; a model that hangs or
kills the evaluator fails alone, and the next request starts a fresh evaluator.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from autoresearch.records import FailureKind
from autoresearch.sandbox.channel import ChannelClosed, pair, receive, send, send_fd
from autoresearch.sandbox.environment import candidate_environment
from autoresearch.sandbox.isolation import Policy, detect, wrap
from autoresearch.sandbox.limits import Limits
from autoresearch.sandbox.sealed import pack_files

START_TIMEOUT = 120.0


class EvaluatorError(RuntimeError):
    """The evaluator could not be started (ours, not the candidate's)."""


@dataclass(frozen=True)
class EvaluatorKey:
    """What an evaluator was started with; a run needing another one gets another one."""

    scoring: str
    sealed: tuple[Path, ...]
    device: str
    threads: int
    gpu: bool
    gpus: str | None
    hidden: tuple[Path, ...]
    limits: Limits = field(default_factory=Limits)


@dataclass(frozen=True)
class Evaluation:
    metrics: dict[str, float] | None
    failure: FailureKind | None = None
    reason: str = ""
    eval_seconds: float = 0.0
    params: int = 0


class Evaluator:
    def __init__(self, key: EvaluatorKey) -> None:
        self.key = key
        self._proc: subprocess.Popen[bytes] | None = None
        self._sock: socket.socket | None = None
        self._directory = Path(tempfile.mkdtemp(prefix="autoresearch-evaluator-"))

    def _start(self) -> socket.socket:
        ours, theirs = pair()
        policy = Policy(workdir=self._directory, hidden=self.key.hidden, gpu=self.key.gpu)
        argv = [sys.executable, "-m", "autoresearch.sandbox.evaluator.server", str(theirs.fileno())]
        cpus = self.key.limits.cpus
        log = open(self._directory / "evaluator.log", "wb")  # noqa: SIM115
        with log:
            self._proc = subprocess.Popen(
                wrap(argv, policy, detect()), cwd=self._directory,
                env=candidate_environment(0, self._directory, self.key.threads, self.key.gpus),
                stdin=subprocess.DEVNULL, stdout=log, stderr=log, pass_fds=(theirs.fileno(),),
                start_new_session=True,
                preexec_fn=(lambda: os.sched_setaffinity(0, cpus)) if cpus else None)
        theirs.close()
        sealed = pack_files(list(self.key.sealed))
        limits = {**self.key.limits.__dict__, "cpu_seconds": None}
        try:
            send_fd(ours, {"scoring": self.key.scoring, "device": self.key.device,
                           "threads": self.key.threads, "limits": limits}, sealed)
            ours.settimeout(START_TIMEOUT)
            receive(ours)
        except (OSError, ChannelClosed) as exc:
            self._stop()
            raise EvaluatorError(f"the evaluator did not start: {self.log_tail()}") from exc
        finally:
            os.close(sealed)
        self._sock = ours
        return ours

    def log_tail(self) -> str:
        with contextlib.suppress(OSError):
            return (self._directory / "evaluator.log").read_text(errors="replace")[-2000:]
        return ""

    def evaluate(self, payload: bytes, declared: dict[str, Any], timeout: float) -> Evaluation:
        """Score one handed-over model; never raises for anything the model does."""
        sock = self._sock or self._start()
        try:
            sock.settimeout(timeout)
            send(sock, {"declared": declared}, payload)
            reply, _ = receive(sock)
        except TimeoutError:
            self._stop()
            return Evaluation(None, FailureKind.TIMEOUT,
                              f"the evaluation took longer than {timeout:.0f}s; killed")
        except (OSError, ChannelClosed):
            tail = self.log_tail()[-300:]
            code = self._stop()
            return Evaluation(None, FailureKind.CRASH,
                              f"the evaluator died on this model (exit {code}): {tail}")
        if "failure" in reply:
            return Evaluation(None, FailureKind(reply["failure"]), str(reply["reason"]))
        return Evaluation({k: float(v) for k, v in reply["metrics"].items()},
                          eval_seconds=float(reply["eval_seconds"]), params=int(reply["params"]))

    def _stop(self) -> int | None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None
        if self._proc is None:
            return None
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self._proc.pid, signal.SIGKILL)
        code = self._proc.wait()
        self._proc = None
        return code

    def close(self) -> None:
        self._stop()
        shutil.rmtree(self._directory, ignore_errors=True)
