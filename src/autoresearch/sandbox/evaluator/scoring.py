"""What a task's scoring module gives the evaluator, and the checks every task shares.

A task's ``scoring.py`` defines ``SCORING``: it loads the sealed splits, says the one input
shape its models are exported at, and computes the metrics from a loaded graph. The batch is
the harness' own, fixed: the model never chooses how the evaluation data is cut. Rows of a
batch are independent windows, and :func:`check_rows_independent` makes sure the model treats
them so (a model that reads other rows could read the targets they hold).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

import torch

Model = Callable[[torch.Tensor], torch.Tensor]
TOLERANCE = 1e-4  # same inputs must give the same outputs, up to kernel rounding


class IntegrityFailure(Exception):
    """The model breaks a rule of the evaluation (reads other rows, looks ahead)."""


class Scoring(Protocol):
    def load(self, sealed: dict[str, bytes], device: torch.device) -> None: ...

    def input_spec(self, declared: dict[str, Any]) -> tuple[tuple[int, ...], torch.dtype]:
        """The exact input the model was exported for; raises ValueError on bad values."""
        ...

    def evaluate(self, model: Model, declared: dict[str, Any]) -> dict[str, float]:
        """Checks first (IntegrityFailure), then {"val": ..., "test": ...}."""
        ...


@dataclass(frozen=True)
class Batches:
    """Rows cut by the harness, grouped into full batches of the export shape.

    ``weights`` marks the rows that count (padding rows repeat a real row with weight 0)."""

    inputs: torch.Tensor  # (batches, batch, ...)
    weights: torch.Tensor  # (batches, batch)

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        return iter(zip(self.inputs, self.weights, strict=True))


def strided_batches(rows: torch.Tensor, batch: int) -> tuple[Batches, torch.Tensor]:
    """Group `rows` into full batches, row k into batch k mod n, so that neighbouring rows
    (consecutive windows of a text) never share a batch. Returns the batches and, for each
    batch slot, the index of its row in `rows`."""
    count = len(rows)
    n = max(1, -(-count // batch))
    index = torch.zeros(n, batch, dtype=torch.int64)
    weights = torch.zeros(n, batch)
    for b in range(n):
        members = torch.arange(b, count, n)
        index[b, : len(members)] = members
        index[b, len(members) :] = members[0]
        weights[b, : len(members)] = 1.0
    return Batches(rows[index], weights.to(rows.device)), index


def checked_call(model: Model, x: torch.Tensor, expected: tuple[int, ...]) -> torch.Tensor:
    """One call at the export shape; the output must have the task's shape."""
    out = model(x)
    if tuple(out.shape) != expected:
        raise ValueError(f"model returned an output of shape {tuple(out.shape)}, "
                         f"want {expected}")
    if not out.is_floating_point():
        raise ValueError(f"model returned {out.dtype} outputs, want floating point logits")
    return out.float()


def check_rows_independent(model: Model, a: torch.Tensor, b: torch.Tensor,
                           expected: tuple[int, ...]) -> None:
    """Row r of a batch must give the same output whatever the other rows hold: put row r of
    `a` among the rows of `b` (two real batches) and compare."""
    out_a = checked_call(model, a, expected)
    for r in sorted({0, len(a) // 2, len(a) - 1}):
        mixed = b.clone()
        mixed[r] = a[r]
        drift = _drift(checked_call(model, mixed, expected)[r], out_a[r])
        if not drift <= TOLERANCE:
            raise IntegrityFailure(
                f"the model mixes the rows of a batch: row {r}'s output changed by {drift:.3g} "
                "when the other rows changed; each row must be computed from itself only")


def _drift(a: torch.Tensor, b: torch.Tensor) -> float:
    """Largest difference; NaN and infinities compare equal to themselves (that is divergence,
    judged from the metric, not a rule broken)."""
    return (torch.nan_to_num(a) - torch.nan_to_num(b)).abs().max().item()
