"""The task-independent half of every harness: what runs in the sandbox beside candidate code.

The bootstrap calls :func:`activate` before candidate code runs. Candidate code may read the
public values of a task harness and call its functions; it cannot reach :data:`_active` (the
validator forbids underscore attributes of the harness), and results leave the process only
through the ``report`` callable the bootstrap holds, which signs them.
"""

from __future__ import annotations

import itertools
import math
import random
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

MAX_CURVE_POINTS = 200


class Diverged(BaseException):
    """The training loss became NaN or infinite."""


class IntegrityViolation(BaseException):
    """The harness or the functions it relies on were replaced at run time."""


@dataclass
class RunContext:
    seed: int
    budget_seconds: float
    data_dir: Path  # only the open (training) files are visible inside the sandbox
    sealed: dict[str, bytes]  # validation and test files, handed over in memory
    device: torch.device
    report: Callable[[dict[str, Any]], None]
    check_integrity: Callable[[], None]
    # The clock starts at the first budget query or data access (time_left, training_done,
    # train_bytes, get_batch): building the model and optimizer is not training. The parent
    # bounds the whole run by its own clock.
    started_at: float | None = None
    stopped_at: float | None = None
    losses: list[tuple[int, float]] = field(default_factory=list)
    step_times: list[float] = field(default_factory=list)
    diverged: bool = False
    reported: bool = False

    def elapsed(self) -> float:
        if self.started_at is None:
            if self.stopped_at is not None:
                return 0.0
            self.started_at = time.perf_counter()
        end = self.stopped_at if self.stopped_at is not None else time.perf_counter()
        return end - self.started_at

    def stop_clock(self) -> float:
        if self.stopped_at is None:
            self.stopped_at = time.perf_counter()
        return self.elapsed()


_active: RunContext | None = None


def activate(ctx: RunContext) -> None:
    global _active
    _active = ctx


def context() -> RunContext:
    if _active is None:
        raise RuntimeError(
            "the harness is not active: run candidates with `autoresearch eval --task ... FILE`"
        )
    return _active


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def detect_device(preference: str = "auto") -> torch.device:
    if preference != "auto":
        return torch.device(preference)
    if torch.cuda.is_available():
        return torch.device("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def time_left() -> float:
    ctx = context()
    return max(0.0, ctx.budget_seconds - ctx.elapsed())


def training_done() -> bool:
    return time_left() <= 0.0


def log_loss(step: int, loss: float) -> None:
    """Record the training loss; a NaN or infinite loss ends the run at once (fail fast)."""
    ctx = context()
    value = float(loss)
    if not math.isfinite(value):
        ctx.diverged = True
        raise Diverged(f"training loss is {value} at step {step}")
    ctx.losses.append((int(step), value))
    ctx.step_times.append(time.perf_counter())


def median_step_seconds(ctx: RunContext) -> float:
    """Typical time per logged step: how far past the budget one step may carry training."""
    times = [t for t in (ctx.started_at, *ctx.step_times) if t is not None]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    return statistics.median(gaps) if gaps else 0.0


def loss_curve(losses: list[tuple[int, float]]) -> list[tuple[int, float]]:
    """At most MAX_CURVE_POINTS points, evenly thinned, always keeping the last one."""
    if len(losses) <= MAX_CURVE_POINTS:
        return list(losses)
    stride = len(losses) / MAX_CURVE_POINTS
    picked = [losses[int(i * stride)] for i in range(MAX_CURVE_POINTS - 1)]
    return [*picked, losses[-1]]


def finish(metrics: dict[str, float], extra: dict[str, Any] | None = None) -> None:
    """Called once by a task's evaluate(): stop the clock and hand the numbers to the bootstrap."""
    ctx = context()
    if ctx.reported:
        raise RuntimeError("evaluate() may be called only once per run")
    ctx.reported = True
    ctx.check_integrity()
    ctx.report(
        {
            "metrics": metrics,
            "train_seconds": ctx.elapsed(),
            "eval_seconds": time.perf_counter() - (ctx.stopped_at or time.perf_counter()),
            "steps": ctx.losses[-1][0] if ctx.losses else 0,
            "median_step_seconds": median_step_seconds(ctx),
            "loss_curve": loss_curve(ctx.losses),
            **(extra or {}),
        }
    )
