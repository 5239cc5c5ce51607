"""A fork server, run inside one worker slot's sandbox:

    python -m autoresearch.sandbox.zygote HARNESS_MODULE CONTROL_FD [sweep]

It imports torch and the task's harness once, then for each run request forks a child that
applies the run's environment, limits and seed itself (bootstrap.run) before candidate code.
CUDA is never initialised here, so forking stays safe; each child initialises its own device.
Requests and replies are JSON messages on a SOCK_SEQPACKET socket, with the run's descriptors
(its control channel to the parent, its output pipe) passed alongside.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import signal
import socket
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import Any

from autoresearch.sandbox.bootstrap import preload, read_spec, run

PR_SET_DUMPABLE = 4


def _not_dumpable() -> None:
    """Runs (same uid) must not be able to read or write this process' memory."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)


def _child(request: dict[str, Any], fds: list[int]) -> int:
    channel_fd, output_fd = fds
    os.setsid()
    os.dup2(output_fd, 1)
    os.dup2(output_fd, 2)
    os.close(output_fd)
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    spec = read_spec(Path(request["spec"]))
    spec.update(channel_fd=channel_fd)
    return run(spec, time.time())


def _sweep(keep: set[int]) -> None:
    """Kill whatever a finished run left in this PID namespace (daemons, grandchildren)."""
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) not in keep:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(int(entry.name), signal.SIGKILL)


def main(argv: list[str]) -> int:
    harness, control = argv[1], int(argv[2])
    # Only in a PID namespace of our own may "every other process" be swept.
    sweep = len(argv) > 3 and argv[3] == "sweep"
    _not_dumpable()
    preload(harness)
    sock = socket.socket(fileno=control)
    lock = threading.Lock()
    running: set[int] = set()

    def reply(message: dict[str, Any]) -> None:
        with lock:
            sock.send(json.dumps(message).encode())

    def reap(pid: int) -> None:
        _, status, usage = os.wait4(pid, 0)
        running.discard(pid)
        if sweep:
            _sweep({1, os.getpid(), *running})
        reply({"exit": pid, "code": os.waitstatus_to_exitcode(status),
               "maxrss_kb": usage.ru_maxrss})

    reply({"ready": os.getpid()})
    while True:
        data, fds, _, _ = socket.recv_fds(sock, 1 << 20, 8)
        if not data:
            return 0
        request = json.loads(data)
        if "kill" in request:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(int(request["kill"]), int(request["signal"]))
            continue
        pid = os.fork()
        if pid == 0:
            sock.close()
            code = 70
            try:
                code = _child(request, fds)
            except BaseException:
                traceback.print_exc()
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        for fd in fds:
            os.close(fd)
        running.add(pid)
        reply({"started": pid})
        threading.Thread(target=reap, args=(pid,), daemon=True).start()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
