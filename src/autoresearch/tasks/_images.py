"""The image-classification harness shared by the cifar10 and fashion_mnist tasks.

A task's harness.py re-exports the functions below and calls :func:`load` from its ``setup``.
Only one harness is active in a seed run, so its state lives in this module. The training
split is asked from the parent on first use (that starts the training clock); the validation
and test splits never enter this process: ``evaluate`` hands the model over and the evaluator
computes the error rates (_image_scoring.py).
"""

from __future__ import annotations

from typing import NoReturn

import torch
from torch.nn import functional as F

from autoresearch.sandbox import harness as core
from autoresearch.tasks._image_scoring import EVAL_BATCH, ImageSpec, decode

_spec: ImageSpec | None = None
_device = torch.device("cpu")
_train: tuple[torch.Tensor, torch.Tensor] | None = None
_mean = torch.zeros(1)
_std = torch.ones(1)
_order = torch.zeros(0, dtype=torch.int64)
_cursor = 0
_generator: torch.Generator | None = None


def load(ctx: core.RunContext, spec: ImageSpec) -> None:
    """Called from a task harness' setup(), before candidate code runs."""
    global _spec, _device, _train, _mean, _std, _generator, _order, _cursor
    _spec, _device, _train = spec, ctx.device, None
    _mean = torch.tensor(spec.mean, device=ctx.device).view(1, -1, 1, 1)
    _std = torch.tensor(spec.std, device=ctx.device).view(1, -1, 1, 1)
    _generator = torch.Generator().manual_seed(ctx.seed)
    _order, _cursor = torch.zeros(0, dtype=torch.int64), 0


def _training() -> tuple[torch.Tensor, torch.Tensor]:
    """The training split; the first call asks the parent for it and starts the clock."""
    global _train
    if _train is None:
        files = core.context().training_files()
        assert _spec is not None
        _train = decode(_spec, files["train_images.bin"], files["train_labels.bin"], _device)
    return _train


def normalize(images: torch.Tensor) -> torch.Tensor:
    """uint8 images -> float, scaled to [0, 1] then standardised per channel."""
    return (images.float() / 255.0 - _mean) / _std


def train_data() -> tuple[torch.Tensor, torch.Tensor]:
    """The whole training split: uint8 images (N x C x H x W) and int64 labels, on DEVICE."""
    return _training()


def get_batch(batch_size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The next `batch_size` training images (normalised floats) and labels, on DEVICE.

    Batches walk a fresh random permutation each epoch, so every image is seen once per epoch.
    """
    global _order, _cursor
    images, labels = _training()
    core.check_budget()
    n = len(labels)
    if not 0 < batch_size <= n:
        raise ValueError(f"batch_size must be in 1..{n}, got {batch_size}")
    if _cursor + batch_size > len(_order):
        _order, _cursor = torch.randperm(n, generator=_generator).to(_device), 0
    index = _order[_cursor : _cursor + batch_size]
    _cursor += batch_size
    return normalize(images[index]), labels[index]


def random_flip(images: torch.Tensor) -> torch.Tensor:
    """Mirror each image left-right with probability 1/2."""
    flip = torch.rand(len(images), device=images.device) < 0.5
    return torch.where(flip[:, None, None, None], images.flip(3), images)


def random_crop(images: torch.Tensor, padding: int = 4) -> torch.Tensor:
    """Pad each image with zeros by `padding` pixels, then cut a random crop of the old size."""
    if padding <= 0:
        return images
    b, _, h, w = images.shape
    padded = F.pad(images, (padding, padding, padding, padding))
    dy = torch.randint(0, 2 * padding + 1, (b,), device=images.device)
    dx = torch.randint(0, 2 * padding + 1, (b,), device=images.device)
    rows = (dy[:, None] + torch.arange(h, device=images.device))[:, None, :, None]
    cols = (dx[:, None] + torch.arange(w, device=images.device))[:, None, None, :]
    batch = torch.arange(b, device=images.device)[:, None, None, None]
    channels = torch.arange(images.shape[1], device=images.device)[None, :, None, None]
    return padded[batch, channels, rows, cols]


def cutout(images: torch.Tensor, size: int = 8) -> torch.Tensor:
    """Zero one random `size` x `size` square of each image (it may overlap the border)."""
    if size <= 0:
        return images
    b, _, h, w = images.shape
    cy = torch.randint(0, h, (b, 1, 1), device=images.device)
    cx = torch.randint(0, w, (b, 1, 1), device=images.device)
    ys = torch.arange(h, device=images.device)[None, :, None]
    xs = torch.arange(w, device=images.device)[None, None, :]
    inside = ((ys - cy).abs() <= size // 2) & ((xs - cx).abs() <= size // 2)
    return images * (~inside)[:, None].to(images.dtype)


def evaluate(model: torch.nn.Module) -> NoReturn:
    """Hand the trained model to the evaluator and end the run; the validation error rate
    (and, sealed, the test error rate) is computed outside this process."""
    assert _spec is not None
    example = torch.randn(EVAL_BATCH, *_spec.shape, device=_device)
    core.hand_over(model, example, {})
