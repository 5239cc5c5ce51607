"""One study's experiments in, one self-contained HTML page out."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import plotly.graph_objects as go
from markupsafe import Markup

from autoresearch import __version__
from autoresearch.analysis.ablation import what_mattered
from autoresearch.analysis.entities import changed_entities
from autoresearch.analysis.study import by_category, summarize
from autoresearch.errors import UsageError
from autoresearch.records import Experiment, Status
from autoresearch.storage import Study
from autoresearch.ui.report import _facts, _figures, _insights, _knobs
from autoresearch.ui.report._render import diff_html, environment, figure_html, stylesheet
from autoresearch.ui.report._tables import pipeline_tables

REASON_WIDTH = 240  # characters of a failure reason in the experiments table


class EmptyStudyError(UsageError):
    """The study exists but holds no experiment yet."""


@dataclass(frozen=True)
class ReportOptions:
    cdn: bool = False  # load plotly.js from its CDN: a small file that needs a network


class _Figures:
    """Renders figures in document order: the first one carries plotly.js, once."""

    def __init__(self, cdn: bool) -> None:
        self._library: bool | str = "cdn" if cdn else True

    def __call__(self, name: str, fig: go.Figure) -> Markup:
        html = figure_html(fig, f"fig-{name}", self._library)
        self._library = False
        return html


def _top_rows(study: Study, experiments: list[Experiment]) -> list[dict[str, Any]]:
    return [{
        "rank": r.rank, "e": r.experiment, "gain": r.gain,
        "previous": r.previous.number if r.previous is not None else None,
        "diff_previous": diff_html(r.diff_previous), "diff_baseline": diff_html(r.diff_baseline),
    } for r in _facts.top(experiments, study.metric)]


def _experiment_rows(experiments: list[Experiment]) -> list[dict[str, Any]]:
    by_id = {e.id: e for e in experiments}
    return [{
        "e": e, "parent": by_id[e.proposal.parent_id].number
        if e.proposal.parent_id in by_id else None,
        "changed": changed_entities(e, by_id),
        "test": e.test_mean if e.status is Status.KEPT else None,
        "reason": e.reason if len(e.reason) <= REASON_WIDTH
        else e.reason[: REASON_WIDTH - 1] + "\u2026",
    } for e in experiments]


def render_report(study: Study, experiments: list[Experiment],
                  options: ReportOptions | None = None) -> str:
    """The report as one HTML string. The progression figure is made first and shown first:
    it carries plotly.js for every figure after it."""
    options = options or ReportOptions()
    if not experiments:
        raise EmptyStudyError(f"the {study.task} study holds no experiment yet; run "
                              f"`autoresearch run --task {study.task}` first")
    metric = study.metric
    figure = _Figures(options.cdn)
    summary = summarize(experiments, metric)
    failure_rows = _facts.failures(experiments)
    categories = by_category(experiments, metric)
    costs = _facts.costs(experiments)
    kept = _facts.kept_with_seeds(experiments)
    space = _knobs.knob_space(experiments)
    points = _knobs.points(experiments, space) if space is not None else []
    importance = _knobs.importance(experiments, space, metric) if space is not None else None

    figures = {"progression": figure("progression", _figures.progression(experiments, metric))}
    if kept:
        figures["seeds"] = figure("seeds", _figures.seed_spread(kept, metric))
    if categories:
        figures["categories"] = figure("categories", _figures.categories(categories, metric))
    if failure_rows:
        figures["failures"] = figure("failures", _figures.failures(failure_rows))
    if costs:
        figures["cost"] = figure("cost", _figures.cost(costs))
    if space is not None and len(points) >= 2:
        figures["parallel"] = figure("parallel", _figures.parallel(points, space, metric))
    if importance is not None:
        figures["importance"] = figure("importance", _figures.importance(importance))

    kept_count = summary.kept
    context = {
        "version": __version__,
        "generated_at": time.time(),
        "study": study, "metric": metric, "summary": summary,
        "models": _facts.models(experiments),
        "compute_seconds": _facts.compute_seconds(experiments),
        "overall": _insights.overall(experiments, metric),
        "category_insights": _insights.by_category_insights(
            experiments, metric, space.categories if space is not None else {}),
        "figures": figures,
        "top": _top_rows(study, experiments),
        "kept": kept,
        "categories": categories,
        "failures": failure_rows,
        "cost": None if not costs else {
            "total": costs[-1].cumulative_usd,
            "per_kept": costs[-1].cumulative_usd / kept_count if kept_count else None,
            "tokens": sum((e.proposal.usage.input_tokens + e.proposal.usage.output_tokens)
                          for e in experiments if e.proposal.usage is not None),
        },
        "space": space, "points": len(points), "importance": importance,
        "min_trials": _knobs.MIN_TRIALS,
        "tables": pipeline_tables(experiments, metric),
        "mattered": what_mattered(experiments, metric),
        "experiments": _experiment_rows(experiments),
        "css": stylesheet(),
    }
    return environment().get_template("report.html.j2").render(context)


def write_report(path: Path, study: Study, experiments: list[Experiment],
                 options: ReportOptions | None = None) -> int:
    """Write the report; returns its size in bytes."""
    text = render_report(study, experiments, options)
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror}; pass -o with a writable "
                         "path") from None
    return len(text.encode("utf-8"))
