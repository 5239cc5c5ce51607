"""The evaluator process: the only holder of the sealed splits, and no candidate code in it.

    python -m autoresearch.sandbox.evaluator.server CONTROL_FD

The first frame names the task's scoring module, the device, threads and limits, with the
sealed files attached as a memfd. Then, per request, a handed-over model (a graph payload, see
graph.py) and what the candidate declared (e.g. its context length); the reply is the metrics
or why the model cannot be scored. Started inside the same isolation as a run (no network,
read-only file system, the store hidden) since it runs graphs built by candidates.
"""

from __future__ import annotations

import os
import socket
import sys
import time
from importlib import import_module
from typing import Any

import torch

from autoresearch.sandbox.channel import ChannelClosed, receive, receive_fd, send
from autoresearch.sandbox.evaluator.graph import GraphRejected, load_graph
from autoresearch.sandbox.evaluator.scoring import IntegrityFailure, Scoring
from autoresearch.sandbox.limits import Limits
from autoresearch.sandbox.sealed import unpack_files


def score(scoring: Scoring, payload: bytes, declared: dict[str, Any],
          device: torch.device) -> dict[str, Any]:
    """One model's verdict, as the reply frame's header."""
    started = time.perf_counter()
    try:
        shape, dtype = scoring.input_spec(declared)
    except ValueError as exc:
        return {"failure": "export", "reason": f"evaluate() got a bad argument: {exc}"}
    try:
        graph = load_graph(payload, device)
        with torch.inference_mode():
            metrics = scoring.evaluate(graph, declared)
    except GraphRejected as exc:
        return {"failure": "export", "reason": str(exc)}
    except IntegrityFailure as exc:
        return {"failure": "integrity", "reason": str(exc)}
    except MemoryError as exc:
        return {"failure": "oom", "reason": f"the model ran out of memory in evaluation: {exc}"}
    except (ValueError, RuntimeError, TypeError, IndexError) as exc:
        text = (str(exc).splitlines() or [type(exc).__name__])[0][:400]
        return {"failure": "export", "reason": "the exported model failed on the evaluation "
                                               f"batch of shape {tuple(shape)}: {text}"}
    return {"metrics": metrics, "params": graph.parameters, "input": [list(shape), str(dtype)],
            "eval_seconds": time.perf_counter() - started}


def resolve_device(preference: str) -> torch.device:
    if preference != "auto":
        return torch.device(preference)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def main(argv: list[str]) -> int:
    sock = socket.socket(fileno=int(argv[1]))
    setup, fd = receive_fd(sock)
    device = resolve_device(setup["device"])
    Limits(**setup["limits"]).apply(device.type == "cuda")
    torch.set_num_threads(int(setup["threads"]))
    scoring: Scoring = import_module(setup["scoring"]).SCORING
    scoring.load(unpack_files(fd), device)
    send(sock, {"ready": os.getpid()})
    while True:
        try:
            request, payload = receive(sock)
        except ChannelClosed:
            return 0
        send(sock, score(scoring, payload, dict(request.get("declared") or {}), device))


if __name__ == "__main__":
    sys.exit(main(sys.argv))
