"""Entry point of every seed run, inside the sandboxed child process.

    python -m autoresearch.sandbox.bootstrap SPEC.json

It reads and deletes the spec (which holds the signing key), applies limits, loads the task's
harness, seeds every generator, then runs the candidate file as ``__main__``. Results leave only
as HMAC-signed lines on an inherited pipe, so printing a metric or writing a file forges nothing.
"""

from __future__ import annotations

import importlib
import json
import math
import runpy
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from autoresearch.sandbox.channel import signer
from autoresearch.sandbox.limits import Limits
from autoresearch.sandbox.sealed import unpack_sealed

OOM_MARKERS = ("out of memory", "can't allocate memory", "defaultcpuallocator", "cannot allocate")


def _watched(modules: list[Any]) -> dict[str, Any]:
    """Every public callable the evaluation could be made to depend on, by identity."""
    seen: dict[str, Any] = {}
    for module in modules:
        for name in dir(module):
            if name.startswith("__"):
                continue
            try:
                value = getattr(module, name)
                stable = getattr(module, name) is value  # descriptors may build a new object
            except Exception:  # lazy attributes may refuse; they are not ours to watch
                continue
            if callable(value) and stable:
                seen[f"{getattr(module, '__name__', module)}.{name}"] = value
    return seen


def _torch_rewrap(new: Any, old: Any, torch_dir: str) -> bool:
    """torch wraps some of its own functions when torch._dynamo is first imported."""
    code = getattr(new, "__code__", None)
    return (getattr(new, "__wrapped__", None) is old and code is not None
            and code.co_filename.startswith(torch_dir))


def _classify(exc: BaseException, core: Any) -> tuple[str, str]:
    text = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, core.Diverged):
        return "divergence", str(exc)
    if isinstance(exc, core.IntegrityViolation):
        return "integrity", str(exc)
    if isinstance(exc, MemoryError) or any(m in text.lower() for m in OOM_MARKERS):
        return "oom", text[:500]
    if isinstance(exc, SyntaxError):
        return "syntax", text[:500]
    return "crash", text[:500]


def read_spec(path: Path) -> dict[str, Any]:
    """The spec holds the signing key: read once, then deleted before candidate code runs."""
    spec = json.loads(path.read_text())
    path.unlink()
    return spec


def preload(harness_module: str) -> None:
    """What every run imports, done once by a fork server before it forks runs. torch._dynamo
    rewraps some torch functions when first imported; import it before any snapshot."""
    import torch
    import torch._dynamo  # noqa: F401

    importlib.import_module(harness_module)


def main(argv: list[str]) -> int:
    launched = time.time()
    spec = read_spec(Path(argv[1]))
    preload(spec["harness"])  # a fork server has done this once, before forking
    return run(spec, launched)


def run(spec: dict[str, Any], launched: float) -> int:
    """Everything after the spec is read: limits, seed, harness, candidate, verdict."""
    send = signer(int(spec["result_fd"]), bytes.fromhex(spec["key"]))
    sealed = unpack_sealed(int(spec["sealed_fd"]))
    use_cuda = spec["device"].startswith("cuda")
    Limits(**spec["limits"]).apply(use_cuda)

    import time as time_module

    import torch

    from autoresearch.tasks import _harness as core

    torch.set_num_threads(int(spec["threads"]))
    harness = importlib.import_module(spec["harness"])
    sys.modules["harness"] = harness
    torch_dir = str(Path(torch.__file__).parent)
    watched_modules = [harness, core, torch, torch.nn.functional, torch.Tensor, torch.nn.Module,
                       time_module]
    snapshot: dict[str, Any] = {}
    reported: list[dict[str, Any]] = []

    def check_integrity() -> None:
        now = _watched(watched_modules)
        changed = [k for k, v in snapshot.items()
                   if now.get(k) is not v and not _torch_rewrap(now.get(k), v, torch_dir)]
        if sys.modules.get("harness") is not harness:
            changed.append("sys.modules['harness']")
        if changed:
            raise core.IntegrityViolation("replaced at run time: " + ", ".join(sorted(changed)[:8]))

    seed = int(spec["seed"])
    core.seed_everything(seed)
    ctx = core.RunContext(
        seed=seed,
        budget_seconds=float(spec["budget_seconds"]),
        data_dir=Path(spec["data_dir"]),
        sealed=sealed,
        device=core.detect_device(spec["device"]),
        report=reported.append,
        check_integrity=check_integrity,
    )
    harness.setup(ctx)
    core.activate(ctx)
    snapshot.update(_watched(watched_modules))
    startup = time.time() - float(spec["launched_at"])
    send({"kind": "started", "startup_seconds": startup,
          "bootstrap_seconds": time.time() - launched})

    failure: tuple[str, str] | None = None
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

    if failure is None and ctx.diverged:
        failure = ("divergence", "training loss became NaN or infinite")
    if failure is None and not reported:
        failure = ("no_result", "the candidate finished without calling harness.evaluate()")
    if failure is None:
        try:
            check_integrity()
        except core.IntegrityViolation as exc:
            failure = ("integrity", str(exc))
    if failure is None and not all(isinstance(v, float) and math.isfinite(v)
                                   for v in reported[0]["metrics"].values()):
        failure = ("divergence", f"metric is not finite: {reported[0]['metrics']}")
    if failure is not None:
        send({"kind": "failure", "failure": failure[0], "reason": failure[1],
              "loss_curve": core.loss_curve(ctx.losses)})
        return 1
    send({"kind": "result", **reported[0]})
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
