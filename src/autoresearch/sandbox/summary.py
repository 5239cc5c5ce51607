"""The numbers a user's training script prints at the end of its run.

Two conventions are read, and the last value printed for a key wins:
- ``key: value`` lines, the summary block of karpathy/autoresearch's train.py
  (``val_bpb:          0.997900``);
- JSON object lines, e.g. ``{"val_bpb": 0.9979, "training_seconds": 300.1}``.

A script that prints its metric in its own words (nanoGPT's ``step 150: train loss 2.47, val
loss 2.51``) is read with a metric pattern: a regular expression whose first group is the value.
"""

from __future__ import annotations

import json
import re

FORMATS = ("auto", "summary", "json")
_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|[-+]?(?:nan|inf|infinity)"
_SUMMARY = re.compile(rf"^([A-Za-z_][\w.\-/]*):\s*({_NUMBER})$", re.IGNORECASE)


class PatternError(ValueError):
    """A metric pattern that cannot be used; the message says why."""


def compile_pattern(pattern: str) -> re.Pattern[str]:
    try:
        compiled = re.compile(pattern)
    except re.error as exc:
        raise PatternError(f"{pattern!r} is not a regular expression: {exc}") from None
    if compiled.groups < 1:
        raise PatternError(f"{pattern!r} has no group: put the number in parentheses, e.g. "
                           "'val loss ([0-9.]+)'")
    return compiled


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


def read_pattern(output: str, pattern: str) -> float | None:
    """The first group of the last match of `pattern` in the output (None: no number)."""
    matches = list(compile_pattern(pattern).finditer(output))
    if not matches:
        return None
    return _number(matches[-1].group(1))


def suggest_pattern(output: str, metric: str) -> tuple[str, str] | None:
    """A pattern for `metric` from how the output spells it (`val_loss` -> `val loss 2.51`):
    the line it was found on and the pattern, or None."""
    words = [w for w in re.split(r"[_\W]+", metric) if w]
    if not words:
        return None
    spelled = re.compile(r"[\s_\-]*".join(map(re.escape, words)) + rf"\s*[:=]?\s*({_NUMBER})",
                         re.IGNORECASE)
    for line in reversed(output.splitlines()):
        match = spelled.search(line)
        if match:
            spelling = re.escape(line[match.start():match.start(1)]).replace("\\ ", " ")
            return line.strip(), spelling + "([-+0-9.eE]+)"
    return None


def sealed_key(metric: str) -> str:
    """Where a script may report the same measure on its held-out test split:
    ``val_bpb`` -> ``test_bpb``, ``accuracy`` -> ``test_accuracy``."""
    return "test_" + metric.removeprefix("val_")
