"""The image-classification harness shared by the cifar10 and fashion_mnist tasks.

A task's harness.py re-exports the functions below and calls :func:`load` from its ``setup``.
Only one harness is active in a sandboxed process, so the loaded splits live in this module.
The metric is the error rate (1 - accuracy) on the validation split; the sealed test split is
scored the same way after training, and neither is ever handed to candidate code.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch.nn import functional as F

from autoresearch.tasks import _harness as core

EVAL_BATCH = 500

# Pristine references taken at import, before candidate code can patch anything.
_argmax = torch.argmax
_no_grad = torch.no_grad


@dataclass(frozen=True)
class ImageSpec:
    shape: tuple[int, int, int]  # channels, height, width
    classes: tuple[str, ...]
    mean: tuple[float, ...]  # per channel, of pixel values scaled to [0, 1]
    std: tuple[float, ...]


@dataclass
class _Split:
    images: torch.Tensor  # uint8, N x C x H x W, on the device
    labels: torch.Tensor  # int64, N, on the device


_spec: ImageSpec | None = None
_device = torch.device("cpu")
_train: _Split | None = None
_sealed: dict[str, _Split] = {}
_mean = torch.zeros(1)
_std = torch.ones(1)
_order = torch.zeros(0, dtype=torch.int64)
_cursor = 0
_generator: torch.Generator | None = None


def _split(spec: ImageSpec, images: bytes, labels: bytes, device: torch.device) -> _Split:
    y = torch.from_numpy(np.frombuffer(labels, dtype=np.uint8).astype(np.int64))
    x = torch.from_numpy(np.frombuffer(images, dtype=np.uint8).copy()).view(len(y), *spec.shape)
    return _Split(x.to(device), y.to(device))


def load(ctx: core.RunContext, spec: ImageSpec) -> None:
    """Called from a task harness' setup(): every split in memory before candidate code runs."""
    global _spec, _device, _train, _mean, _std, _generator, _order, _cursor
    _spec, _device = spec, ctx.device
    _train = _split(spec, (ctx.data_dir / "train_images.bin").read_bytes(),
                    (ctx.data_dir / "train_labels.bin").read_bytes(), ctx.device)
    for name in ("val", "test"):
        _sealed[name] = _split(spec, ctx.sealed[f"{name}_images.bin"],
                               ctx.sealed[f"{name}_labels.bin"], ctx.device)
    _mean = torch.tensor(spec.mean, device=ctx.device).view(1, -1, 1, 1)
    _std = torch.tensor(spec.std, device=ctx.device).view(1, -1, 1, 1)
    _generator = torch.Generator().manual_seed(ctx.seed)
    _order, _cursor = torch.zeros(0, dtype=torch.int64), 0


def _training() -> _Split:
    if _train is None:
        core.context()  # raises the helpful "not active" error
    assert _train is not None
    return _train


def normalize(images: torch.Tensor) -> torch.Tensor:
    """uint8 images -> float, scaled to [0, 1] then standardised per channel."""
    return (images.float() / 255.0 - _mean) / _std


def train_data() -> tuple[torch.Tensor, torch.Tensor]:
    """The whole training split: uint8 images (N x C x H x W) and int64 labels, on DEVICE."""
    split = _training()
    return split.images, split.labels


def get_batch(batch_size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The next `batch_size` training images (normalised floats) and labels, on DEVICE.

    Batches walk a fresh random permutation each epoch, so every image is seen once per epoch.
    """
    global _order, _cursor
    core.context().elapsed()  # the first batch starts the training clock
    split = _training()
    n = len(split.labels)
    if not 0 < batch_size <= n:
        raise ValueError(f"batch_size must be in 1..{n}, got {batch_size}")
    if _cursor + batch_size > len(_order):
        _order, _cursor = torch.randperm(n, generator=_generator).to(_device), 0
    index = _order[_cursor : _cursor + batch_size]
    _cursor += batch_size
    return normalize(split.images[index]), split.labels[index]


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


def _error_rate(model: torch.nn.Module, split: _Split) -> float:
    assert _spec is not None
    wrong = 0
    for start in range(0, len(split.labels), EVAL_BATCH):
        logits = model(normalize(split.images[start : start + EVAL_BATCH]))
        if isinstance(logits, tuple):
            logits = logits[0]
        expected = (min(EVAL_BATCH, len(split.labels) - start), len(_spec.classes))
        if tuple(logits.shape) != expected:
            raise ValueError(f"model returned logits of shape {tuple(logits.shape)}, "
                             f"want {expected}")
        predicted = _argmax(logits.float(), dim=1)
        wrong += int((predicted != split.labels[start : start + EVAL_BATCH]).sum())
    return wrong / len(split.labels)


def evaluate(model: torch.nn.Module) -> float:
    """Stop the training clock and score the model: the validation error rate (and, sealed,
    the test error rate). Call once, after training. Returns the validation error rate."""
    ctx = core.context()
    ctx.stop_clock()
    was_training = model.training
    model.eval()
    with _no_grad():
        val = _error_rate(model, _sealed["val"])
        test = _error_rate(model, _sealed["test"])
    model.train(was_training)
    params = sum(p.numel() for p in model.parameters())
    core.finish({"val": val, "test": test}, {"params": params})
    return val
