"""Scoring of the shakespeare task: bits per byte of the sealed splits, in the evaluator.

No candidate code runs here: the model arrives as an exported graph taking int64 windows of
shape (EVAL_BATCH, context) and returning logits (EVAL_BATCH, context, 256). The first
EVAL_BYTES bytes after the first of each split are predicted, whatever the context: windows of
`context` bytes tile the split, each predicting its own next bytes, and a last shorter window
is taken as the final `context` bytes with only its new targets counted.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from autoresearch.sandbox.evaluator.scoring import (
    TOLERANCE,
    IntegrityFailure,
    Model,
    check_rows_independent,
    checked_call,
    strided_batches,
)

VOCAB_SIZE = 256
EVAL_BYTES = 65_536
EVAL_BATCH = 32
MAX_CONTEXT = 2048


def windows(data: torch.Tensor, context: int) -> tuple[torch.Tensor, ...]:
    """(inputs, targets, counted): one row per window of `context` bytes."""
    n = len(data) - 1
    starts = list(range(0, n, context))
    counted = torch.ones(len(starts), context)
    if n % context:
        # The tail window ends where the text ends; only the bytes not yet predicted count.
        counted[-1, : context - n % context] = 0.0
        starts[-1] = n - context
    offsets = torch.arange(context)
    index = torch.tensor(starts)[:, None] + offsets
    return data[index].long(), data[index + 1].long(), counted


class ByteLMScoring:
    def __init__(self) -> None:
        self.splits: dict[str, torch.Tensor] = {}
        self.device = torch.device("cpu")

    def load(self, sealed: dict[str, bytes], device: torch.device) -> None:
        self.device = device
        for split in ("val", "test"):
            raw = bytearray(sealed[f"{split}.bin"][: EVAL_BYTES + 1])
            self.splits[split] = torch.frombuffer(raw, dtype=torch.uint8).to(device)

    def input_spec(self, declared: dict[str, Any]) -> tuple[tuple[int, ...], torch.dtype]:
        context = declared.get("context")
        shortest = min(len(s) for s in self.splits.values()) - 1 if self.splits else MAX_CONTEXT
        if not isinstance(context, int) or isinstance(context, bool) \
                or not 2 <= context <= min(MAX_CONTEXT, shortest):
            raise ValueError(f"context must be an int in 2..{min(MAX_CONTEXT, shortest)}, "
                             f"got {context!r}")
        return (EVAL_BATCH, context), torch.int64

    def evaluate(self, model: Model, declared: dict[str, Any]) -> dict[str, float]:
        (batch, context), _ = self.input_spec(declared)
        expected = (batch, context, VOCAB_SIZE)
        self._check(model, context, expected)
        return {split: self._bits_per_byte(model, data, context, expected)
                for split, data in self.splits.items()}

    def _check(self, model: Model, context: int, expected: tuple[int, ...]) -> None:
        """At the real batch shape: rows independent, and no row looks ahead."""
        data = self.splits["val"]
        first = strided_batches(windows(data, context)[0], EVAL_BATCH)[0].inputs[0]
        shifted = strided_batches(windows(data[context // 2 :], context)[0],
                                  EVAL_BATCH)[0].inputs[0]
        check_rows_independent(model, first, shifted, expected)
        half = context // 2
        altered = first.clone()
        altered[:, half:] = (altered[:, half:] + 97) % VOCAB_SIZE
        before = torch.log_softmax(checked_call(model, first, expected), -1)[:, :half]
        after = torch.log_softmax(checked_call(model, altered, expected), -1)[:, :half]
        drift = (torch.nan_to_num(before) - torch.nan_to_num(after)).abs().max().item()
        if not drift <= TOLERANCE:
            raise IntegrityFailure(
                f"the model is not causal: changing bytes {half}.. of each window changed the "
                f"predictions of earlier bytes by {drift:.3g}")

    def _bits_per_byte(self, model: Model, data: torch.Tensor, context: int,
                       expected: tuple[int, ...]) -> float:
        inputs, targets, counted = windows(data, context)
        batches, index = strided_batches(inputs, EVAL_BATCH)
        total, count = 0.0, 0.0
        for (x, weights), rows in zip(batches, index, strict=True):
            logp = torch.log_softmax(checked_call(model, x, expected), -1)
            nll = -logp.gather(-1, targets[rows][..., None]).squeeze(-1)
            mask = counted[rows].to(nll.device) * weights[:, None]
            total += float((nll * mask).sum())
            count += float(mask.sum())
        return total / count / math.log(2)


SCORING = ByteLMScoring()
