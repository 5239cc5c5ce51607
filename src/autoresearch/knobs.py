"""Knobs: module-level assignments annotated for the search, read and edited via AST.

    LEARNING_RATE = 3e-3  # search: log 3e-4..3e-2 [optimizer]
    learning_rate = 6e-4  # search: log 1e-4..1e-2   (any name: nanoGPT's globals are lowercase)
    N_LAYER = 3           # search: int 1..6 [architectural]
    BLOCK_SIZE = 128      # search: choice 32,64,128,256
    DROPOUT = 0.0         # search: float 0.0..0.3 [regularization]
    USE_BIAS = True       # search: bool
"""

from __future__ import annotations

import ast
import math
import random
import re
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from autoresearch.bundle import python_sections

if TYPE_CHECKING:
    import optuna.distributions as od

CATEGORIES = ("hyperparameter", "architectural", "optimizer", "regularization")
_ANNOTATION = re.compile(
    r"#\s*search:\s*(?P<kind>log|float|int|choice|bool)\b\s*(?P<spec>[^\[#]*?)\s*"
    r"(?:\[(?P<category>[a-z_]+)\])?\s*$"
)


class KnobError(ValueError):
    """A malformed search annotation."""


@dataclass(frozen=True)
class Knob:
    name: str
    value: Any
    kind: str
    low: float | None = None
    high: float | None = None
    choices: tuple[Any, ...] = ()
    category: str = "hyperparameter"
    line: int = 0  # 1-based line of the assignment
    col: int = 0  # value expression span on that line
    end_col: int = 0

    def distribution(self) -> od.BaseDistribution:
        # Imported here: every command reads knobs, only the search samples them, and
        # Optuna costs 0.15 s of start-up.
        import optuna.distributions as od

        if self.kind == "log":
            return od.FloatDistribution(self.low, self.high, log=True)  # type: ignore[arg-type]
        if self.kind == "float":
            return od.FloatDistribution(self.low, self.high)  # type: ignore[arg-type]
        if self.kind == "int":
            return od.IntDistribution(int(self.low), int(self.high))  # type: ignore[arg-type]
        return od.CategoricalDistribution(self.choices)

    def draw(self, rng: random.Random) -> Any:
        """A value drawn uniformly from the declared range (on the log scale for `log`)."""
        return draw(self.kind, self.low, self.high, self.choices, rng)

    def contains(self, value: Any) -> bool:
        if self.kind in ("choice", "bool"):
            return value in self.choices
        try:
            return self.low <= float(value) <= self.high  # type: ignore[operator]
        except (TypeError, ValueError):
            return False


def draw(kind: str, low: float | None, high: float | None, choices: tuple[Any, ...],
         rng: random.Random) -> Any:
    """Uniform over a declared range (log scale for `log`) or a choice: a knob's, or a
    pipeline parameter's (same kinds)."""
    if kind in ("choice", "bool"):
        return rng.choice(choices)
    assert low is not None and high is not None
    if kind == "log":
        return math.exp(rng.uniform(math.log(low), math.log(high)))
    if kind == "int":
        return rng.randint(int(low), int(high))
    return rng.uniform(low, high)


def _literal(text: str) -> Any:
    try:
        return ast.literal_eval(text.strip())
    except (ValueError, SyntaxError):
        return text.strip()


def _parse_annotation(name: str, value: Any, comment: str) -> Knob | None:
    match = _ANNOTATION.search(comment)
    if match is None:
        return None
    kind, spec = match["kind"], match["spec"].strip()
    category = match["category"] or "hyperparameter"
    if category not in CATEGORIES:
        raise KnobError(f"{name}: unknown category [{category}]; use one of {CATEGORIES}")
    if kind == "bool":
        return Knob(name, value, "choice", choices=(False, True), category=category)
    if kind == "choice":
        choices = tuple(_literal(c) for c in spec.split(",") if c.strip())
        if len(choices) < 2:
            raise KnobError(f"{name}: 'choice' needs at least two values, got {spec!r}")
        return Knob(name, value, "choice", choices=choices, category=category)
    low_text, sep, high_text = spec.partition("..")
    if not sep:
        raise KnobError(f"{name}: expected 'LOW..HIGH' after '{kind}', got {spec!r}")
    low, high = float(_literal(low_text)), float(_literal(high_text))
    if not low < high or (kind == "log" and low <= 0):
        raise KnobError(f"{name}: bad range {spec!r} for '{kind}'")
    return Knob(name, value, kind, low=low, high=high, category=category)


def parse_knobs(code: str) -> dict[str, Knob]:
    """Annotated knobs of a candidate, in order of appearance; unannotated constants are ignored.

    A multi-file candidate (see autoresearch.bundle) is read one Python file at a time; knob
    lines are numbered in the whole candidate, so apply_knobs edits it in place.
    """
    knobs: dict[str, Knob] = {}
    for section in python_sections(code):
        for name, knob in _parse_file(section.text).items():
            if name in knobs:
                raise KnobError(f"{name} is annotated in two files; knob names must be unique")
            knobs[name] = replace(knob, line=knob.line + section.line_offset)
    return knobs


def _parse_file(code: str) -> dict[str, Knob]:
    tree = ast.parse(code)
    lines = code.splitlines()
    knobs: dict[str, Knob] = {}
    for node in tree.body:
        target = _assigned_name(node)
        value_node = getattr(node, "value", None)
        if target is None or value_node is None or node.lineno != value_node.end_lineno:
            continue
        try:
            value = ast.literal_eval(value_node)
        except ValueError:
            continue
        comment = lines[node.lineno - 1][value_node.end_col_offset or 0:]
        knob = _parse_annotation(target, value, comment)
        if knob is not None:
            knobs[knob.name] = Knob(**{**knob.__dict__, "line": node.lineno,
                                       "col": value_node.col_offset,
                                       "end_col": value_node.end_col_offset or 0})
    return knobs


def _assigned_name(node: ast.stmt) -> str | None:
    """`name = value` or `name: type = value` at module level; None for anything else."""
    if isinstance(node, ast.Assign) and len(node.targets) == 1:
        target = node.targets[0]
    elif isinstance(node, ast.AnnAssign) and node.value is not None:
        target = node.target
    else:
        return None
    return target.id if isinstance(target, ast.Name) else None


def format_value(value: Any, kind: str) -> str:
    if kind == "int":
        return str(int(value))
    if isinstance(value, float):
        if math.isfinite(value) and value != 0 and (abs(value) < 1e-3 or abs(value) >= 1e5):
            return f"{value:.3g}"
        text = f"{value:.4g}"
        return text if any(c in text for c in ".e") else text + ".0"
    return repr(value)


def apply_knobs(code: str, knobs: dict[str, Knob], values: dict[str, Any]) -> str:
    """Rewrite the value of each named knob in place, keeping its annotation comment."""
    lines = code.splitlines(keepends=True)
    for name, value in values.items():
        knob = knobs[name]
        line = lines[knob.line - 1]
        new = format_value(value, knob.kind)
        lines[knob.line - 1] = line[: knob.col] + new + line[knob.end_col :]
    return "".join(lines)


def current_values(knobs: dict[str, Knob]) -> dict[str, Any]:
    return {name: knob.value for name, knob in knobs.items()}
