"""Fixed harness of the shakespeare task. Candidate code imports it as ``import harness``.

DO NOT EDIT from candidate code: the data, the time budget and the evaluation live here.

Public API:
    DEVICE, SEED, BUDGET_SECONDS, VOCAB_SIZE
    get_batch(batch_size, block_size) -> (x, y)   random training windows, int64, on DEVICE
    train_bytes() -> torch.Tensor                 the whole training split (uint8, CPU)
    time_left() / training_done()                 the training budget
    log_loss(step, loss)                          loss curve; NaN/inf ends the run (diverged)
    evaluate(model, context) -> float             val_bpb; call once, after training

The model contract: ``model(idx)`` with ``idx`` int64 of shape (B, T), T <= context, returns
logits of shape (B, T, 256) where position t predicts byte t+1 from bytes 0..t only.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from autoresearch.tasks import _harness as core
from autoresearch.tasks._harness import Diverged, log_loss, time_left, training_done

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

VOCAB_SIZE = 256
EVAL_BYTES = 65_536  # bytes predicted per split: fixed whatever the model's context length
EVAL_BATCH = 32
CAUSALITY_TOLERANCE = 1e-4

# Set by setup() before candidate code runs.
DEVICE: torch.device = torch.device("cpu")
SEED: int = 0
BUDGET_SECONDS: float = 0.0

# Pristine references taken at import, before candidate code can patch anything.
_log_softmax = torch.log_softmax
_gather = torch.gather
_isfinite = torch.isfinite
_train: torch.Tensor | None = None
_sealed: dict[str, torch.Tensor] = {}
_generator: torch.Generator | None = None


def setup(ctx: core.RunContext) -> None:
    """Called by the bootstrap: loads every split into memory before candidate code runs."""
    global DEVICE, SEED, BUDGET_SECONDS, _train, _generator
    DEVICE, SEED, BUDGET_SECONDS = ctx.device, ctx.seed, ctx.budget_seconds
    _train = torch.from_numpy(np.fromfile(ctx.data_dir / "train.bin", dtype=np.uint8))
    for split in ("val", "test"):
        raw = np.frombuffer(ctx.sealed[f"{split}.bin"], dtype=np.uint8)
        _sealed[split] = torch.from_numpy(raw.copy())[: EVAL_BYTES + 1]
    _generator = torch.Generator().manual_seed(ctx.seed)


def train_bytes() -> torch.Tensor:
    core.context().elapsed()  # touching the data starts the training clock
    assert _train is not None
    return _train


def get_batch(batch_size: int, block_size: int) -> tuple[torch.Tensor, torch.Tensor]:
    data = train_bytes()
    starts = torch.randint(0, len(data) - block_size - 1, (batch_size,), generator=_generator)
    offsets = torch.arange(block_size + 1)
    windows = data[starts[:, None] + offsets].long()
    x, y = windows[:, :-1], windows[:, 1:]
    return x.to(DEVICE, non_blocking=True), y.to(DEVICE, non_blocking=True)


def _logits(model: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    logits = model(x.to(DEVICE))
    if isinstance(logits, tuple):
        logits = logits[0]
    expected = (*x.shape, VOCAB_SIZE)
    if tuple(logits.shape) != expected:
        raise ValueError(f"model returned logits of shape {tuple(logits.shape)}, want {expected}")
    return logits.float()


def _check_causality(model: torch.nn.Module, data: torch.Tensor, context: int) -> None:
    """Changing future bytes must not change earlier predictions."""
    length = min(context, len(data) - 1)
    x = data[:length].long()[None]
    altered = x.clone()
    half = length // 2
    altered[0, half:] = (altered[0, half:] + 97) % VOCAB_SIZE
    before = _log_softmax(_logits(model, x), -1)[0, :half]
    after = _log_softmax(_logits(model, altered), -1)[0, :half]
    drift = (before - after).abs().max().item()
    if not drift <= CAUSALITY_TOLERANCE:
        raise core.IntegrityViolation(
            f"the model is not causal: changing bytes {half}.. changed earlier predictions "
            f"by {drift:.3g}"
        )


def _bits_per_byte(model: torch.nn.Module, data: torch.Tensor, context: int) -> float:
    """Mean bits to predict data[1:], in windows of the model's context length."""
    total_nats, counted = 0.0, 0
    n = len(data) - 1
    starts = list(range(0, n, context))
    for i in range(0, len(starts), EVAL_BATCH):
        group = starts[i : i + EVAL_BATCH]
        # Windows of equal length batch together; only the last one can be shorter.
        for size in sorted({min(context, n - s) for s in group}, reverse=True):
            chunk = [s for s in group if min(context, n - s) == size]
            x = torch.stack([data[s : s + size] for s in chunk]).long()
            y = torch.stack([data[s + 1 : s + size + 1] for s in chunk]).long().to(DEVICE)
            logp = _log_softmax(_logits(model, x), -1)
            nll = -_gather(logp, -1, y[..., None]).sum()
            total_nats += float(nll)
            counted += y.numel()
    return total_nats / counted / math.log(2)


@torch.no_grad()
def evaluate(model: torch.nn.Module, context: int) -> float:
    """Stop the training clock, check causality, score val (and the sealed test split)."""
    ctx = core.context()
    ctx.stop_clock()
    if not isinstance(context, int) or context < 2:
        raise ValueError(f"context must be an int >= 2, got {context!r}")
    was_training = model.training
    model.eval()
    _check_causality(model, _sealed["val"], context)
    val = _bits_per_byte(model, _sealed["val"], context)
    test = _bits_per_byte(model, _sealed["test"], context)
    model.train(was_training)
    params = sum(p.numel() for p in model.parameters())
    core.finish({"val": val, "test": test}, {"params": params})
    return val
