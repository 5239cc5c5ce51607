"""The task-independent half of every harness: what runs in a seed run beside candidate code.

This is candidate ground: candidate code shares the process and could change anything here,
so nothing here decides a verdict. The clock that counts is the parent's, and the metric is
computed by the evaluator from the model the run hands over. What lives here serves the
candidate: the training data (asked from the parent on first use, which starts the parent's
clock), the budget as seen from inside, the loss curve, and the hand-over of the model.
"""

from __future__ import annotations

import math
import os
import random
import socket
import sys
import time
from dataclasses import dataclass, field
from typing import Any, NoReturn

import numpy as np
import torch

from autoresearch.sandbox.channel import receive_fd, send
from autoresearch.sandbox.evaluator.graph import GraphRejected, export_model
from autoresearch.sandbox.limits import budget_slack
from autoresearch.sandbox.sealed import unpack_files

MAX_CURVE_POINTS = 200


class Diverged(BaseException):
    """The training loss became NaN or infinite."""


class ExportFailed(BaseException):
    """The model could not be exported for the evaluator."""


class BudgetExhausted(Exception):
    """Training data was asked for after the budget ran out."""


@dataclass
class RunContext:
    seed: int
    budget_seconds: float
    device: torch.device
    channel: socket.socket  # to the parent: data requests, the hand-over, failures
    budget_unit: str = "wall"  # or "cpu": CPU seconds of this process, all threads together
    started_at: float | None = None  # when the parent's clock started, by our perf_counter
    cpu_at_start: float = 0.0
    data: dict[str, bytes] | None = None
    losses: list[tuple[int, float]] = field(default_factory=list)

    def training_files(self) -> dict[str, bytes]:
        """The training split's files. The first call asks the parent for them, and the
        parent starts the training clock (it may have started already: set-up time is
        bounded); the answer says how long ago, so the local clock agrees with the parent's."""
        if self.data is None:
            # Our CPU time so far: the parent tells others' load on our cores from it.
            send(self.channel, {"kind": "start", "cpu": time.process_time()})
            header, fd = receive_fd(self.channel)
            self.started_at = time.perf_counter() - float(header["elapsed"])
            self.cpu_at_start = time.process_time()
            self.data = unpack_files(fd)
        return self.data

    def elapsed(self) -> float:
        self.training_files()
        assert self.started_at is not None
        if self.budget_unit == "cpu":
            return time.process_time() - self.cpu_at_start
        return time.perf_counter() - self.started_at


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


def check_budget() -> None:
    """Batches stop at the budget (plus a quarter of the slack the parent allows for the last
    step and the export): a loop that ignores the budget ends here with a clear message, well
    before the parent's deadline kills it, even on a busy machine."""
    ctx = context()
    if ctx.elapsed() > ctx.budget_seconds + budget_slack(ctx.budget_seconds) / 4:
        raise BudgetExhausted("the training budget is over: stop training and call "
                              "harness.evaluate(model) (loop `while not harness.training_done()`)")


def log_loss(step: int, loss: float) -> None:
    """Record the training loss; a NaN or infinite loss ends the run at once (fail fast)."""
    value = float(loss)
    if not math.isfinite(value):
        raise Diverged(f"training loss is {value} at step {step}")
    context().losses.append((int(step), value))


def loss_curve(losses: list[tuple[int, float]]) -> list[tuple[int, float]]:
    """At most MAX_CURVE_POINTS points, evenly thinned, always keeping the last one."""
    if len(losses) <= MAX_CURVE_POINTS:
        return list(losses)
    stride = len(losses) / MAX_CURVE_POINTS
    picked = [losses[int(i * stride)] for i in range(MAX_CURVE_POINTS - 1)]
    return [*picked, losses[-1]]


def hand_over(model: torch.nn.Module, example: torch.Tensor, declared: dict[str, Any]
              ) -> NoReturn:
    """Export the model at the evaluation shape, send it to the parent, and end the run: the
    model has left the process, so nothing done after this can change its score."""
    ctx = context()
    # The parent's last CPU mark before the export: it tells a starved export from a slow one.
    send(ctx.channel, {"kind": "exporting", "cpu": time.process_time()})
    try:
        payload = export_model(model, example)
    except GraphRejected as exc:
        raise ExportFailed(str(exc)) from None
    send(ctx.channel, {"kind": "model", "declared": declared, "cpu": time.process_time(),
                       "steps": ctx.losses[-1][0] + 1 if ctx.losses else 0,
                       "loss_curve": loss_curve(ctx.losses)}, payload)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
