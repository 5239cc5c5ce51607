"""The numbers a user's training script prints at the end of its run.

Two conventions are read, and the last value printed for a key wins:
- ``key: value`` lines, the summary block of karpathy/autoresearch's train.py
  (``val_bpb:          0.997900``);
- JSON object lines, e.g. ``{"val_bpb": 0.9979, "training_seconds": 300.1}``.
"""

from __future__ import annotations

import json
import re

FORMATS = ("auto", "summary", "json")
_SUMMARY = re.compile(r"^([A-Za-z_][\w.\-/]*):\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
                      r"|[-+]?(?:nan|inf|infinity))$", re.IGNORECASE)


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    try:
        return float(value)
    except ValueError:
        return None


def _from_json(line: str) -> dict[str, float]:
    if not (line.startswith("{") and line.endswith("}")):
        return {}
    try:
        obj = json.loads(line)
    except ValueError:
        return {}
    if not isinstance(obj, dict):
        return {}
    numbers = {str(k): _number(v) for k, v in obj.items()}
    return {k: v for k, v in numbers.items() if v is not None}


def read_summary(output: str, fmt: str = "auto") -> dict[str, float]:
    """Every numeric value the output reports, by key (the last one printed wins)."""
    if fmt not in FORMATS:
        raise ValueError(f"metric format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    found: dict[str, float] = {}
    for raw in output.splitlines():
        line = raw.strip()
        if fmt in ("auto", "json"):
            found.update(_from_json(line))
        if fmt in ("auto", "summary"):
            match = _SUMMARY.match(line)
            if match:
                found[match[1]] = float(match[2])
    return found


def sealed_key(metric: str) -> str:
    """Where a script may report the same measure on its held-out test split:
    ``val_bpb`` -> ``test_bpb``, ``accuracy`` -> ``test_accuracy``."""
    return "test_" + metric.removeprefix("val_")
