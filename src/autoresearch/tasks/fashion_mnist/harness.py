"""Fixed harness of the fashion_mnist task. Candidate code imports it as ``import harness``.

DO NOT EDIT from candidate code: the data, the time budget and the hand-over live here; the
error rates are computed elsewhere (scoring.py, in the evaluator), from the model you hand over.

Public API:
    DEVICE, SEED, BUDGET_SECONDS, NUM_CLASSES, IMAGE_SHAPE (1, 28, 28), CLASSES
    get_batch(batch_size) -> (x, y)        normalised float images and int64 labels, on DEVICE
    train_data() -> (images, labels)       the whole training split (uint8 images), on DEVICE
    normalize(images) -> x                 uint8 images -> the floats get_batch returns
    random_flip(x) / random_crop(x, padding) / cutout(x, size)   augmentation of a batch
    time_left() / training_done()          the training budget
    log_loss(step, loss)                   loss curve; NaN/inf ends the run (diverged)
    evaluate(model)                        hand the model over; ends the run

The model contract: ``model(x)`` with ``x`` float of shape (500, 1, 28, 28), as get_batch
returns them, gives logits of shape (500, 10), each row from its own image only. ``evaluate``
exports it with ``torch.export`` at that shape (its forward must be traceable).
"""

from __future__ import annotations

import torch

from autoresearch.sandbox import harness as core
from autoresearch.sandbox.harness import Diverged, log_loss, time_left, training_done
from autoresearch.tasks import _images
from autoresearch.tasks._images import (
    cutout,
    evaluate,
    get_batch,
    normalize,
    random_crop,
    random_flip,
    train_data,
)
from autoresearch.tasks.fashion_mnist.scoring import CLASSES, SPEC

__all__ = [
    "BUDGET_SECONDS", "CLASSES", "DEVICE", "IMAGE_SHAPE", "NUM_CLASSES", "SEED", "Diverged",
    "cutout", "evaluate", "get_batch", "log_loss", "normalize", "random_crop", "random_flip",
    "time_left", "train_data", "training_done",
]

NUM_CLASSES = len(CLASSES)
IMAGE_SHAPE = SPEC.shape

# Set by setup() before candidate code runs.
DEVICE: torch.device = torch.device("cpu")
SEED: int = 0
BUDGET_SECONDS: float = 0.0


def setup(ctx: core.RunContext) -> None:
    """Called by the bootstrap before candidate code runs."""
    global DEVICE, SEED, BUDGET_SECONDS
    DEVICE, SEED, BUDGET_SECONDS = ctx.device, ctx.seed, ctx.budget_seconds
    _images.load(ctx, SPEC)
