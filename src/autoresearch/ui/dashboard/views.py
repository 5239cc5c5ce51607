"""What the dashboard shows, computed from the store's records: no HTML and no I/O here.

Every comparison goes through the study's `Metric`, so a study whose metric is maximised reads
the same way as one that is minimised (best first, gains positive when better).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from autoresearch.analysis import pipeline as analysis
from autoresearch.analysis.entities import changed_entities
from autoresearch.analysis.study import best_so_far, lineage
from autoresearch.metric import Metric
from autoresearch.records import Experiment, Status

PER_PAGE = 50
FAILED = "failed"  # table filter: every failure status at once


@dataclass(frozen=True)
class Row:
    """One experiment as the table and the JSON listing show it."""

    id: int
    number: int
    status: Status
    mode: str
    category: str
    description: str
    changed: str  # the entities changed against the parent: "~LR (0.003 -> 0.001), +f"
    proposer: str
    failure: str | None
    reason: str
    metric: float | None
    std: float | None
    gain: float | None  # over the baseline, metric units, positive = better
    test: float | None  # sealed test split: shown for kept experiments only
    seeds: int
    screens: int  # screening runs (a fraction of the budget), apart from the seeds
    wall_seconds: float
    parent_id: int | None
    parent_number: int | None
    finished_at: float | None

    def as_json(self) -> dict[str, Any]:
        data = {k: getattr(self, k) for k in self.__dataclass_fields__}
        data["status"] = self.status.value
        return data


def rows(experiments: list[Experiment], metric: Metric, baseline: float | None) -> list[Row]:
    by_id = {e.id: e for e in experiments}
    return [row(e, metric, baseline, by_id) for e in experiments]


def row(e: Experiment, metric: Metric, baseline: float | None,
        by_id: dict[int, Experiment]) -> Row:
    mean = e.metric_mean
    parent = by_id.get(e.proposal.parent_id or -1)
    return Row(
        id=e.id, number=e.number, status=e.status, mode=e.proposal.mode.value,
        category=e.proposal.category, description=e.proposal.description,
        changed=changed_entities(e, by_id), proposer=e.proposal.proposer,
        failure=e.failure.value if e.failure else None,
        reason=e.reason, metric=mean, std=_stdev(e.scores),
        gain=None if mean is None or baseline is None else metric.gain(mean, baseline),
        test=e.test_mean if e.status is Status.KEPT else None,
        seeds=len(e.seed_runs), screens=len(e.screens),
        wall_seconds=sum(r.wall_seconds for r in e.every_run),
        parent_id=e.proposal.parent_id, parent_number=parent.number if parent else None,
        finished_at=e.finished_at,
    )


def _sort_keys(metric: Metric) -> dict[str, Callable[[Row], Any]]:
    """Column -> key; ascending means oldest / best / shortest first. None sorts last."""
    return {
        "number": lambda r: r.number,
        "status": lambda r: r.status.value,
        "mode": lambda r: r.mode,
        "category": lambda r: r.category,
        "metric": lambda r: None if r.metric is None else metric.sort_key(r.metric),
        "std": lambda r: r.std,
        "gain": lambda r: None if r.gain is None else -r.gain,
        "test": lambda r: None if r.test is None else metric.sort_key(r.test),
        "seeds": lambda r: r.seeds,
        "time": lambda r: r.wall_seconds,
        "parent": lambda r: r.parent_number,
    }


SORTABLE = ("number", "status", "mode", "category", "metric", "std", "gain", "test", "seeds",
            "time", "parent")


@dataclass(frozen=True)
class TableQuery:
    status: str = ""  # a Status value, FAILED, or "" for all
    category: str = ""
    mode: str = ""
    sort: str = "number"
    order: str = "desc"
    page: int = 1

    @classmethod
    def parse(cls, status: str = "", category: str = "", mode: str = "", sort: str = "number",
              order: str = "desc", page: int = 1) -> TableQuery:
        """Lenient: a hand-edited URL with an unknown value falls back to the default."""
        return cls(status=status, category=category, mode=mode,
                   sort=sort if sort in SORTABLE else "number",
                   order=order if order in ("asc", "desc") else "desc", page=max(1, page))

    def keeps(self, row: Row) -> bool:
        if self.status == FAILED:
            status_ok = row.status.failed
        else:
            status_ok = not self.status or row.status.value == self.status
        return status_ok and (not self.category or row.category == self.category) \
            and (not self.mode or row.mode == self.mode)


@dataclass(frozen=True)
class TablePage:
    rows: list[Row]
    query: TableQuery
    total: int  # experiments in the study
    matching: int  # after the filters
    pages: int
    statuses: list[str] = field(default_factory=list)  # filter choices present in the study
    categories: list[str] = field(default_factory=list)
    modes: list[str] = field(default_factory=list)

    @property
    def page(self) -> int:
        return min(self.query.page, self.pages)


def table(all_rows: list[Row], query: TableQuery, metric: Metric,
          per_page: int = PER_PAGE) -> TablePage:
    kept = [r for r in all_rows if query.keeps(r)] \
        if query.status or query.category or query.mode else all_rows
    if query.sort == "number":  # the listing is already in order of number
        ordered = kept[::-1] if query.order == "desc" else list(kept)
    else:
        key = _sort_keys(metric)[query.sort]
        present = sorted((r for r in kept if key(r) is not None), key=key,
                         reverse=query.order == "desc")
        ordered = present + [r for r in kept if key(r) is None]
    pages = max(1, math.ceil(len(ordered) / per_page))
    page = min(query.page, pages)
    return TablePage(
        rows=ordered[(page - 1) * per_page: page * per_page], query=query, total=len(all_rows),
        matching=len(ordered), pages=pages,
        statuses=sorted({r.status.value for r in all_rows}),
        categories=sorted({r.category for r in all_rows}),
        modes=sorted({r.mode for r in all_rows}),
    )


def chart(all_rows: list[Row], experiments: list[Experiment], metric: Metric) -> dict[str, Any]:
    """Scored experiments as points, failures pinned at the worst edge, the best-so-far line."""
    scored = [r for r in all_rows if r.metric is not None and math.isfinite(r.metric)]
    worst = max((r.metric for r in scored if r.metric is not None), key=metric.sort_key,
                default=0.0)

    def point(r: Row, y: float) -> dict[str, Any]:
        # Short labels, no null keys: thousands of points are most of a poll's bytes.
        p = {"x": r.number, "y": y, "id": r.id, "status": r.status.value,
             "label": r.description[:60]}
        if r.failure:
            p["failure"] = r.failure
        return p

    return {
        "metric": metric.name,
        "direction": metric.direction.value,
        "points": [point(r, r.metric) for r in scored if r.metric is not None],
        "failed": [point(r, worst) for r in all_rows
                   if (r.status.failed or r.status.unjudged) and r.metric is None],
        "best": [{"x": n, "y": v} for n, v in best_so_far(experiments, metric)],
    }


@dataclass(frozen=True)
class TreeRow:
    row: Row
    depth: int
    best: bool
    on_best_path: bool  # an ancestor of the best experiment (or the best itself)


def tree(all_rows: list[Row], experiments: list[Experiment], best_id: int | None,
         kept_only: bool = False) -> list[TreeRow]:
    """Depth-first lineage, children in order of number; iterative so long chains are fine."""
    by_number = {r.number: r for r in all_rows}
    by_id = {r.id: r for r in all_rows}
    children = lineage(experiments)
    best_path: set[int] = set()
    node = by_id.get(best_id or -1)
    while node is not None and node.id not in best_path:
        best_path.add(node.id)
        node = by_id.get(node.parent_id or -1)
    shown: set[int] | None = None
    if kept_only:
        shown = set()
        for r in all_rows:
            if r.status is Status.KEPT:
                node = r
                while node is not None and node.id not in shown:
                    shown.add(node.id)
                    node = by_id.get(node.parent_id or -1)
    roots = [r for r in all_rows if r.parent_id not in by_id]
    out: list[TreeRow] = []
    stack = [(r, 0) for r in reversed(roots)]
    while stack:
        r, depth = stack.pop()
        if shown is not None and r.id not in shown:
            continue
        out.append(TreeRow(r, depth, r.id == best_id, r.id in best_path))
        stack.extend((by_number[n], depth + 1) for n in reversed(children.get(r.number, [])))
    return out


@dataclass(frozen=True)
class ValueStats:
    value: str
    tried: int
    scored: int
    kept: int
    mean: float | None  # mean score of the experiments that used this value
    best: float | None


@dataclass(frozen=True)
class KnobView:
    """One knob (script tasks) or slot (pipeline tasks) across the study."""

    name: str
    numeric: bool  # many distinct numbers: shown as a scatter, not a ranking
    ranking: list[ValueStats]  # best mean first
    scatter: list[dict[str, Any]]  # {"x": value, "y": score, "id", "status"}


MAX_RANKED_VALUES = 12


def knobs(experiments: list[Experiment], metric: Metric) -> list[KnobView]:
    """Scalar knobs only: a pipeline combo's nested slots are shown by `pipeline`."""
    names = sorted({n for e in experiments for n, v in e.proposal.knobs.items()
                    if isinstance(v, str | int | float | bool)})
    views = []
    for name in names:
        used = [(e, e.proposal.knobs[name]) for e in experiments
                if isinstance(e.proposal.knobs.get(name), str | int | float | bool)]
        values = {_text(v) for _, v in used}
        numeric = len(values) > MAX_RANKED_VALUES and all(
            isinstance(v, int | float) and not isinstance(v, bool) for _, v in used)
        scatter = [{"x": v, "y": e.metric_mean, "id": e.id, "status": e.status.value}
                   for e, v in used if numeric and e.metric_mean is not None]
        ranking = [] if numeric else _ranking(used, metric)
        views.append(KnobView(name, numeric, ranking, scatter))
    return views


@dataclass(frozen=True)
class PipelineView:
    """A tabular study's analyses, as the search and the report compute them."""

    rankings: list[Any]  # autoresearch.analysis.pipeline.SlotRanking
    interactions: list[Any]  # ...Interaction
    pruned: list[Any]  # ...Pruned


def pipeline(experiments: list[Experiment], metric: Metric) -> PipelineView | None:
    """None unless the study holds pipeline combos (knobs with a "slots" mapping)."""
    if not any(isinstance(e.proposal.knobs.get("slots"), dict) for e in experiments):
        return None
    return PipelineView(analysis.slot_rankings(experiments, metric),
                        analysis.interactions(experiments, metric),
                        analysis.pruned(experiments, metric))


def _ranking(used: list[tuple[Experiment, Any]], metric: Metric) -> list[ValueStats]:
    groups: dict[str, list[Experiment]] = {}
    for e, v in used:
        groups.setdefault(_text(v), []).append(e)
    stats = []
    for value, group in groups.items():
        scores = [e.metric_mean for e in group if e.metric_mean is not None]
        stats.append(ValueStats(
            value=value, tried=len(group), scored=len(scores),
            kept=sum(1 for e in group if e.status is Status.KEPT),
            mean=sum(scores) / len(scores) if scores else None,
            best=min(scores, key=metric.sort_key) if scores else None,
        ))
    return sorted(stats, key=lambda s: (metric.sort_key(s.mean), s.value))


def _stdev(values: list[float]) -> float | None:
    """Sample standard deviation, as `Experiment.metric_std`, in float arithmetic:
    `statistics.stdev` is exact but ~50x slower, which shows over thousands of rows."""
    if len(values) < 2:
        return None
    mean = math.fsum(values) / len(values)
    return math.sqrt(math.fsum((v - mean) ** 2 for v in values) / (len(values) - 1))


def _text(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)
