"""A task's metric and its direction; every comparison in the project goes through here."""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum


class Direction(str, Enum):
    MIN = "min"
    MAX = "max"

    @classmethod
    def parse(cls, text: str) -> Direction:
        aliases = {"min": cls.MIN, "minimize": cls.MIN, "lower": cls.MIN,
                   "max": cls.MAX, "maximize": cls.MAX, "higher": cls.MAX}
        try:
            return aliases[text.strip().lower()]
        except KeyError:
            raise ValueError(f"direction must be 'min' or 'max', got {text!r}") from None


@dataclass(frozen=True)
class Metric:
    name: str
    direction: Direction

    def gain(self, new: float, old: float) -> float:
        """How much better `new` is than `old`, in metric units (positive = better)."""
        return (old - new) if self.direction is Direction.MIN else (new - old)

    def is_better(self, new: float, old: float | None, min_delta: float = 0.0) -> bool:
        """True when `new` beats `old` by more than the additive threshold `min_delta`."""
        if not math.isfinite(new):
            return False
        if old is None:
            return True
        return self.gain(new, old) > min_delta

    def sort_key(self, value: float | None) -> float:
        """Ascending sort puts the best first; missing values last."""
        if value is None or not math.isfinite(value):
            return math.inf
        return value if self.direction is Direction.MIN else -value

    @property
    def arrow(self) -> str:
        return "↓" if self.direction is Direction.MIN else "↑"
