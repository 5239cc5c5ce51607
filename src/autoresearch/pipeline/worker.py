"""A warm table worker, run inside one worker slot's sandbox:

    python -m autoresearch.pipeline.worker CONTROL_FD {bwrap,unshare,none}

It imports scikit-learn while the parent prepares the table, then reads the table's features
(never a label) once, from a memory file the first control message carries, and imports the
frameworks once. Then for each fold request it forks a fold process that runs the combo's slot
code (fold.py): the fold process reads the training rows' labels and the row indices from its
own pipe (this process passes the pipe on unread, so it never holds a label), writes
predictions to its result pipe and exits. No slot code runs in this process. After each fold,
whatever the fold process left behind is removed: stray processes (in our own PID namespace)
and, under bubblewrap, every file in the writable places, so one fold cannot pass what it saw
to the next.
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib
import json
import os
import pickle
import shutil
import signal
import socket
import sys
import threading
import traceback
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from autoresearch.pipeline.fold import Problem, SlotFailure, fit_predict, slots_of
from autoresearch.sandbox.limits import Limits

PR_SET_DUMPABLE = 4
PRELOAD = ("sklearn.compose", "sklearn.impute", "sklearn.pipeline", "sklearn.preprocessing",
           "sklearn.linear_model", "sklearn.ensemble", "sklearn.neighbors", "sklearn.svm",
           "sklearn.naive_bayes", "sklearn.neural_network", "sklearn.decomposition",
           "sklearn.feature_selection")
SCRATCH = ("/tmp", "/var/tmp", "/dev/shm")  # private to the sandbox under bubblewrap


def _read_arrays(fd: int) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    with os.fdopen(fd, "rb") as handle:
        header = json.loads(handle.readline())
        arrays = {name: np.frombuffer(handle.read(size), dtype=dtype)
                  for name, dtype, size in header.pop("arrays")}
    return header, arrays


def _answer(fd: int, header: dict[str, Any], payload: bytes = b"") -> None:
    with os.fdopen(fd, "wb") as out:
        out.write(json.dumps(header).encode() + b"\n" + payload)


def _fold(request: dict[str, Any], data: dict[str, Any], fds: list[int]) -> int:
    """The fold process: slot code runs here, on the features and the training labels."""
    input_fd, result_fd = fds
    os.setsid()
    Limits(cpu_seconds=int(request["cpu_seconds"]), memory_bytes=None).apply(False)
    try:
        _, arrays = _read_arrays(input_fd)
        X = data["X_dev"]
        if request["holdout"]:
            X = pd.concat([X, data["X_holdout"]], ignore_index=True)
        problem = Problem(data["kind"], int(data["n_classes"]), int(request["seed"]),
                          int(request["threads"]), data["metric"])
        predicted = fit_predict(slots_of(request["code"]), problem, X, arrays["train"],
                                arrays["y_train"], arrays["rows"], bool(request["proba"]))
        _answer(result_fd, {"shape": list(predicted.shape)}, predicted.tobytes())
    except MemoryError as exc:
        _answer(result_fd, {"failure": "oom", "reason": f"MemoryError: {exc}"})
    except SyntaxError as exc:
        _answer(result_fd, {"failure": "syntax", "reason": f"{exc}"[:500]})
    except BaseException as exc:
        slot = exc.slot if isinstance(exc, SlotFailure) else None
        reason = str(exc) if slot else f"{type(exc).__name__}: {exc}"
        _answer(result_fd, {"failure": "crash", "reason": reason[:500], "slot": slot,
                            "log": traceback.format_exc()[-3000:]})
    return 0


def _clean(workdir: Path, scratch: bool, keep: set[int], sweep: bool) -> None:
    if sweep:
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit() and int(entry.name) not in keep:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(int(entry.name), signal.SIGKILL)
    for place in (workdir, *(Path(p) for p in SCRATCH if scratch)):
        for child in list(place.iterdir()) if place.is_dir() else []:
            with contextlib.suppress(OSError):
                if child.is_dir() and not child.is_symlink():
                    shutil.rmtree(child, ignore_errors=True)
                else:
                    child.unlink()


def _warm() -> None:
    """Transform a trusted four-row frame once. scikit-learn imports narwhals' pandas support
    on the first DataFrame it checks; imported here, every fold process inherits it instead
    of importing it again (40-50 ms a fold, a third of a small fit). No model is fitted: an
    OpenMP pool started here would not survive the fork into a fold process."""
    from sklearn.compose import ColumnTransformer, make_column_selector
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    frame = pd.DataFrame({"number": [0.0, 1.0, 2.0, 3.0], "category": ["a", "b", "a", "b"]})
    ColumnTransformer([
        ("number", StandardScaler(), make_column_selector(dtype_include="number")),
        ("category", OneHotEncoder(), make_column_selector(dtype_exclude="number")),
    ]).fit_transform(frame, np.array([0, 1, 0, 1]))


def main(argv: list[str]) -> int:
    control, isolation = int(argv[1]), argv[2]
    with contextlib.suppress(OSError, AttributeError):  # folds may not read our memory
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
    os.environ["KERAS_BACKEND"] = "torch"  # Keras 3 runs on torch: no TensorFlow needed
    for module in PRELOAD:
        importlib.import_module(module)
    with contextlib.suppress(Exception):  # only a head start: a fold imports what it needs
        _warm()
    sock = socket.socket(fileno=control)
    _, fds, _, _ = socket.recv_fds(sock, 1 << 16, 1)
    if not fds:
        return 0  # the parent ended before the table was ready
    with os.fdopen(fds[0], "rb") as handle:
        data = pickle.load(handle)  # written by the parent: features and the problem only
    for module in data["preload"]:
        importlib.import_module(module)
    Limits(**data["limits"]).apply(False)
    workdir = Path.cwd()
    lock = threading.Lock()

    def reply(message: dict[str, Any]) -> None:
        with lock:
            sock.send(json.dumps(message).encode())

    def reap(pid: int) -> None:
        _, status, usage = os.wait4(pid, 0)
        _clean(workdir, isolation == "bwrap", {1, os.getpid()}, isolation != "none")
        reply({"exit": pid, "code": os.waitstatus_to_exitcode(status),
               "maxrss_kb": usage.ru_maxrss})

    reply({"ready": os.getpid()})
    while True:
        message, fds, _, _ = socket.recv_fds(sock, 1 << 22, 2)
        if not message:
            return 0
        request = json.loads(message)
        if "kill" in request:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(int(request["kill"]), signal.SIGKILL)
            continue
        pid = os.fork()
        if pid == 0:
            sock.close()
            code = 70
            try:
                code = _fold(request, data, fds)
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        for fd in fds:
            os.close(fd)
        reply({"started": pid})
        threading.Thread(target=reap, args=(pid,), daemon=True).start()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
