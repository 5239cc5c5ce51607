"""Scoring of the image tasks (cifar10, fashion_mnist): error rates, in the evaluator.

The model arrives as a graph exported for normalised float images of shape
(EVAL_BATCH, C, H, W) returning logits (EVAL_BATCH, classes); the evaluator normalises the
sealed images the way the harness' ``normalize`` does and counts wrong argmax predictions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from autoresearch.sandbox.evaluator.scoring import (
    Model,
    check_rows_independent,
    checked_call,
    strided_batches,
)

EVAL_BATCH = 500


@dataclass(frozen=True)
class ImageSpec:
    shape: tuple[int, int, int]  # channels, height, width
    classes: tuple[str, ...]
    mean: tuple[float, ...]  # per channel, of pixel values scaled to [0, 1]
    std: tuple[float, ...]

    def normalize(self, images: torch.Tensor) -> torch.Tensor:
        """uint8 images -> float, scaled to [0, 1] then standardised per channel."""
        mean = torch.tensor(self.mean, device=images.device).view(1, -1, 1, 1)
        std = torch.tensor(self.std, device=images.device).view(1, -1, 1, 1)
        return (images.float() / 255.0 - mean) / std


def decode(spec: ImageSpec, images: bytes, labels: bytes, device: torch.device
           ) -> tuple[torch.Tensor, torch.Tensor]:
    """A split's files as (uint8 images N x C x H x W, int64 labels N) on `device`."""
    y = torch.from_numpy(np.frombuffer(labels, dtype=np.uint8).astype(np.int64))
    x = torch.from_numpy(np.frombuffer(images, dtype=np.uint8).copy()).view(len(y), *spec.shape)
    return x.to(device), y.to(device)


class ImageScoring:
    def __init__(self, spec: ImageSpec) -> None:
        self.spec = spec
        self.splits: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}

    def load(self, sealed: dict[str, bytes], device: torch.device) -> None:
        for split in ("val", "test"):
            self.splits[split] = decode(self.spec, sealed[f"{split}_images.bin"],
                                        sealed[f"{split}_labels.bin"], device)

    def input_spec(self, declared: dict[str, Any]) -> tuple[tuple[int, ...], torch.dtype]:
        return (EVAL_BATCH, *self.spec.shape), torch.float32

    def evaluate(self, model: Model, declared: dict[str, Any]) -> dict[str, float]:
        expected = (EVAL_BATCH, len(self.spec.classes))
        images = self.splits["val"][0]
        first = self.spec.normalize(strided_batches(images, EVAL_BATCH)[0].inputs[0])
        other = self.spec.normalize(strided_batches(images.flip(0), EVAL_BATCH)[0].inputs[0])
        check_rows_independent(model, first, other, expected)
        return {split: self._error_rate(model, images, labels, expected)
                for split, (images, labels) in self.splits.items()}

    def _error_rate(self, model: Model, images: torch.Tensor, labels: torch.Tensor,
                    expected: tuple[int, ...]) -> float:
        batches, index = strided_batches(images, EVAL_BATCH)
        wrong = 0.0
        for (x, weights), rows in zip(batches, index, strict=True):
            predicted = checked_call(model, self.spec.normalize(x), expected).argmax(dim=1)
            wrong += float(((predicted != labels[rows]).float() * weights).sum())
        return wrong / len(labels)
