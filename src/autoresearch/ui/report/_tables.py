"""Plain tables for the template: rows of strings, whatever shape the source data had.

The tabular-pipeline analyses (per-slot rankings, interactions, pruned families) come from
the read side, `autoresearch.analysis.pipeline`; the report renders whatever rows they return
(dataclasses, mappings or tuples) and skips a section that has none."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from autoresearch.analysis import pipeline as analysis
from autoresearch.metric import Metric
from autoresearch.records import Experiment

PIPELINE_SECTIONS = (("user_split", "Your pipeline, split into slots"),
                     ("slot_rankings", "Per-slot rankings"), ("interactions", "Interactions"),
                     ("pruned", "Pruned families"))


@dataclass(frozen=True)
class Table:
    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


def cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, float):
        return f"{value:.4g}" if math.isfinite(value) else str(value)
    if isinstance(value, list | tuple | frozenset | set):
        return ", ".join(cell(v) for v in value)
    return str(value)


def _as_mapping(row: Any) -> Mapping[str, Any] | None:
    if dataclasses.is_dataclass(row) and not isinstance(row, type):
        return {f.name: getattr(row, f.name) for f in dataclasses.fields(row)}
    if isinstance(row, Mapping):
        return row
    if hasattr(row, "_asdict"):
        return row._asdict()  # type: ignore[no-any-return]
    return None


def table(title: str, rows: Iterable[Any]) -> Table | None:
    """A table from records of one shape; None when there is nothing to show."""
    rows = list(rows.items() if isinstance(rows, Mapping) else rows)
    if not rows:
        return None
    mapped = [_as_mapping(r) for r in rows]
    if all(m is not None for m in mapped):
        columns = list(dict.fromkeys(k for m in mapped for k in m))  # type: ignore[union-attr]
        body = tuple(tuple(cell(m.get(c)) for c in columns) for m in mapped)  # type: ignore[union-attr]
        return Table(title, tuple(columns), body)
    as_rows = [tuple(r) if isinstance(r, list | tuple) else (r,) for r in rows]
    width = max(len(r) for r in as_rows)
    return Table(title, tuple(f"{i + 1}" for i in range(width)),
                 tuple(tuple(cell(v) for v in r) + ("",) * (width - len(r)) for r in as_rows))


def pipeline_tables(experiments: list[Experiment], metric: Metric) -> list[Table]:
    tables = []
    for name, title in PIPELINE_SECTIONS:
        function: Callable[[list[Experiment], Metric], Any] = getattr(analysis, name)
        result = table(title, function(experiments, metric) or [])
        if result is not None:
            tables.append(result)
    return tables
