"""Fixed harness of the shakespeare task. Candidate code imports it as ``import harness``.

DO NOT EDIT from candidate code: the data, the time budget and the hand-over live here; the
metric is computed elsewhere (scoring.py, in the evaluator), from the model you hand over.

Public API:
    DEVICE, SEED, BUDGET_SECONDS, VOCAB_SIZE
    get_batch(batch_size, block_size) -> (x, y)   random training windows, int64, on DEVICE
    train_bytes() -> torch.Tensor                 the whole training split (uint8, CPU)
    time_left() / training_done()                 the training budget (the first call of any
                                                  of these four starts the training clock)
    log_loss(step, loss)                          loss curve; NaN/inf ends the run (diverged)
    evaluate(model, context)                      hand the model over; ends the run

The model contract: ``model(idx)`` with ``idx`` int64 of shape (32, context) returns logits of
shape (32, context, 256) where position t predicts byte t+1 from bytes 0..t of its own row
only. ``evaluate`` exports it with ``torch.export`` at that shape (so its forward must be
traceable: tensor operations, no Python branches on tensor values, no .item()); the evaluator
checks that rows are independent and that no position looks ahead, then scores val_bpb.
"""

from __future__ import annotations

from typing import NoReturn

import torch

from autoresearch.sandbox import harness as core
from autoresearch.sandbox.harness import Diverged, log_loss, time_left, training_done
from autoresearch.tasks.shakespeare.scoring import EVAL_BATCH, MAX_CONTEXT, VOCAB_SIZE

__all__ = [
    "BUDGET_SECONDS",
    "DEVICE",
    "SEED",
    "VOCAB_SIZE",
    "Diverged",
    "evaluate",
    "get_batch",
    "log_loss",
    "time_left",
    "train_bytes",
    "training_done",
]

# Set by setup() before candidate code runs.
DEVICE: torch.device = torch.device("cpu")
SEED: int = 0
BUDGET_SECONDS: float = 0.0

_train: torch.Tensor | None = None
_generator: torch.Generator | None = None


def setup(ctx: core.RunContext) -> None:
    """Called by the bootstrap before candidate code runs."""
    global DEVICE, SEED, BUDGET_SECONDS, _train, _generator
    DEVICE, SEED, BUDGET_SECONDS = ctx.device, ctx.seed, ctx.budget_seconds
    _train = None
    _generator = torch.Generator().manual_seed(ctx.seed)


def train_bytes() -> torch.Tensor:
    """The training split; the first call asks the parent for it and starts the clock."""
    global _train
    if _train is None:
        raw = bytearray(core.context().training_files()["train.bin"])
        _train = torch.frombuffer(raw, dtype=torch.uint8)
    return _train


def get_batch(batch_size: int, block_size: int) -> tuple[torch.Tensor, torch.Tensor]:
    data = train_bytes()
    core.check_budget()
    starts = torch.randint(0, len(data) - block_size - 1, (batch_size,), generator=_generator)
    offsets = torch.arange(block_size + 1)
    windows = data[starts[:, None] + offsets].long()
    x, y = windows[:, :-1], windows[:, 1:]
    return x.to(DEVICE, non_blocking=True), y.to(DEVICE, non_blocking=True)


def evaluate(model: torch.nn.Module, context: int) -> NoReturn:
    """Hand the trained model to the evaluator and end the run. `context` is the window
    length the model reads (its block size); val_bpb is computed outside this process."""
    if not isinstance(context, int) or isinstance(context, bool) \
            or not 2 <= context <= MAX_CONTEXT:
        raise ValueError(f"context must be an int in 2..{MAX_CONTEXT}, got {context!r}")
    example = torch.randint(0, VOCAB_SIZE, (EVAL_BATCH, context), device=DEVICE)
    core.hand_over(model, example, {"context": context})
