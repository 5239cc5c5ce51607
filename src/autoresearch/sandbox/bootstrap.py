"""Entry point of every seed run, inside the sandboxed child process.

    python -m autoresearch.sandbox.bootstrap SPEC.json

It reads and deletes the spec, applies limits, seeds every generator, loads the task's
harness, then runs the candidate file as ``__main__``. The run holds no sealed data, no key and
no way to report a metric: it can only hand over its trained model (harness.evaluate), which
ends it, or say why it failed. Everything it says is untrusted; the parent times it and the
evaluator scores the model.
"""

from __future__ import annotations

import importlib
import json
import runpy
import socket
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from autoresearch.sandbox.channel import send
from autoresearch.sandbox.limits import OOM_MARKERS, Limits


def _classify(exc: BaseException, core: Any) -> tuple[str, str]:
    text = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, core.Diverged):
        return "divergence", str(exc)
    if isinstance(exc, core.ExportFailed):
        return "export", str(exc)
    if isinstance(exc, core.BudgetExhausted):
        return "over_budget", str(exc)
    if isinstance(exc, MemoryError) or any(m in text.lower() for m in OOM_MARKERS):
        return "oom", text[:500]
    if isinstance(exc, SyntaxError):
        return "syntax", text[:500]
    return "crash", text[:500]


def read_spec(path: Path) -> dict[str, Any]:
    """Read once, then deleted before candidate code runs."""
    spec = json.loads(path.read_text())
    path.unlink()
    return spec


def preload(harness_module: str) -> None:
    """What every run imports, done once by a fork server before it forks runs; the exporter
    is warmed up too (its first export costs seconds, later ones a tenth), functionalisation of
    in-place operations included."""
    import torch

    from autoresearch.sandbox.evaluator.graph import export_model

    importlib.import_module(harness_module)
    export_model(torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.ReLU(inplace=True)),
                 torch.zeros(1, 2))


def main(argv: list[str]) -> int:
    launched = time.time()
    spec = read_spec(Path(argv[1]))
    preload(spec["harness"])  # a fork server has done this once, before forking
    return run(spec, launched)


def run(spec: dict[str, Any], launched: float) -> int:
    """Everything after the spec is read: limits, seed, harness, candidate, failure."""
    channel = socket.socket(fileno=int(spec["channel_fd"]))
    use_cuda = spec["device"].startswith("cuda")
    Limits(**spec["limits"]).apply(use_cuda)

    import torch

    from autoresearch.sandbox import harness as core

    torch.set_num_threads(int(spec["threads"]))
    harness = importlib.import_module(spec["harness"])
    sys.modules["harness"] = harness
    seed = int(spec["seed"])
    core.seed_everything(seed)
    ctx = core.RunContext(seed=seed, budget_seconds=float(spec["budget_seconds"]),
                          device=core.detect_device(spec["device"]), channel=channel,
                          budget_unit=spec.get("budget_unit", "wall"))
    harness.setup(ctx)
    core.activate(ctx)
    send(channel, {"kind": "started", "bootstrap_seconds": time.time() - launched,
                   "cpu": time.process_time()})

    failure = ("no_result", "the candidate finished without calling harness.evaluate(model)")
    try:
        runpy.run_path(spec["candidate"], run_name="__main__")
    except SystemExit as exc:
        if exc.code not in (0, None):
            failure = ("crash", f"candidate exited with status {exc.code}")
    except BaseException as exc:
        traceback.print_exc()
        failure = _classify(exc, core)
    sys.stdout.flush()
    sys.stderr.flush()
    # A successful run never gets here: handing over the model ends the process.
    send(channel, {"kind": "failure", "failure": failure[0], "reason": failure[1],
                   "cpu": time.process_time(), "loss_curve": core.loss_curve(ctx.losses)})
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
