"""The report's Plotly figures, one function each. SVG traces only (no WebGL) apart from the
parallel coordinates, so the file renders on machines without a GPU.

Every experiment text that reaches a figure goes through `_text`: Plotly draws a subset of
HTML in labels, and the report must show what the experiment said, not interpret it."""

from __future__ import annotations

import html
import math

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from autoresearch.analysis.study import CategoryStats, best_so_far
from autoresearch.metric import Direction, Metric
from autoresearch.records import Experiment, Status
from autoresearch.ui.report._facts import CostPoint, FailureRow
from autoresearch.ui.report._knobs import Importance, KnobSpace, flat

COLORS = {Status.KEPT: "#2ca02c", Status.DISCARDED: "#9e9e9e", Status.INVALID: "#9467bd",
          Status.CRASHED: "#d62728", Status.TIMEOUT: "#ff7f0e", Status.OOM: "#8c564b",
          Status.DIVERGED: "#e377c2", Status.RUNNING: "#17becf", Status.PENDING: "#17becf",
          Status.INTERFERED: "#7f7f7f", Status.DUPLICATE: "#c7c7c7",
          Status.MEASURED: "#1f77b4"}
TEMPLATE = "plotly_white"
HOVER_WIDTH = 90  # characters of an experiment's text in a tooltip


def _text(value: str, width: int = HOVER_WIDTH) -> str:
    value = value if len(value) <= width else value[: width - 1] + "\u2026"
    return html.escape(value, quote=False)


def _hover(e: Experiment) -> str:
    mean = "-" if e.metric_mean is None else f"{e.metric_mean:.4f}"
    lines = [f"#{e.number} {e.status.value} ({_text(e.proposal.category, 30)})",
             _text(e.proposal.description), f"mean {mean} over {len(e.scores)} seed(s)"]
    if e.failure is not None:
        lines.append(f"{e.failure.value}: {_text(e.reason)}")
    return "<br>".join(lines)


def _layout(fig: go.Figure, title: str, height: int = 420) -> go.Figure:
    fig.update_layout(template=TEMPLATE, title=title, height=height,
                      margin={"l": 60, "r": 20, "t": 50, "b": 50},
                      legend={"orientation": "h", "y": -0.15})
    return fig


def progression(experiments: list[Experiment], metric: Metric) -> go.Figure:
    """Scored experiments by number, failures on a strip below, the best-so-far as a step."""
    strip = any(e.metric_mean is None for e in experiments)
    fig = make_subplots(rows=2 if strip else 1, cols=1, shared_xaxes=True,
                        row_heights=[0.82, 0.18] if strip else None, vertical_spacing=0.04)
    for status in Status:
        group = [e for e in experiments if e.status is status]
        if not group:
            continue
        with_metric = [e for e in group if e.metric_mean is not None]
        without = [e for e in group if e.metric_mean is None]
        marker = {"color": COLORS[status], "size": 8, "line": {"width": 0.5, "color": "white"}}
        if with_metric:
            fig.add_trace(go.Scatter(
                x=[e.number for e in with_metric], y=[e.metric_mean for e in with_metric],
                mode="markers", name=status.value, legendgroup=status.value, marker=marker,
                text=[_hover(e) for e in with_metric], hoverinfo="text"), row=1, col=1)
        if without:
            fig.add_trace(go.Scatter(
                x=[e.number for e in without], y=[status.value] * len(without),
                mode="markers", name=status.value, legendgroup=status.value,
                showlegend=not with_metric, marker={**marker, "symbol": "x"},
                text=[_hover(e) for e in without], hoverinfo="text"), row=2, col=1)
    series = best_so_far(experiments, metric)
    if series:
        last = max(e.number for e in experiments)
        xs = [n for n, _ in series] + [last]
        ys = [v for _, v in series] + [series[-1][1]]
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", line={"shape": "hv", "width": 2,
                                 "color": COLORS[Status.KEPT]}, name="best so far",
                                 hoverinfo="skip"), row=1, col=1)
    fig.update_yaxes(title_text=f"{metric.name} {metric.arrow}", row=1, col=1)
    if strip:
        fig.update_yaxes(type="category", row=2, col=1)
    fig.update_xaxes(title_text="experiment", row=2 if strip else 1, col=1)
    return _layout(fig, "Metric by experiment", height=480 if strip else 420)


def seed_spread(kept: list[Experiment], metric: Metric) -> go.Figure:
    fig = go.Figure()
    labels = {e.id: f"#{e.number}" for e in kept}
    seeds = sorted({r.seed for e in kept for r in e.seed_runs if r.ok})
    for seed in seeds:
        rows = [(labels[e.id], r.metric, e) for e in kept for r in e.seed_runs
                if r.ok and r.seed == seed]
        fig.add_trace(go.Scatter(
            x=[x for x, _, _ in rows], y=[y for _, y, _ in rows], mode="markers",
            name=f"seed {seed}", marker={"size": 9, "opacity": 0.8},
            text=[f"#{e.number} seed {seed}: {y:.4f}<br>{_text(e.proposal.description)}"
                  for _, y, e in rows], hoverinfo="text"))
    fig.add_trace(go.Scatter(
        x=[labels[e.id] for e in kept], y=[e.metric_mean for e in kept], mode="markers",
        name="mean", marker={"symbol": "line-ew-open", "size": 22, "color": "black",
                             "line": {"width": 2}}, hoverinfo="skip"))
    fig.update_xaxes(type="category", title_text="kept experiment")
    fig.update_yaxes(title_text=f"{metric.name} {metric.arrow}")
    return _layout(fig, "Each seed's value, per kept experiment")


def failures(rows: list[FailureRow]) -> go.Figure:
    status = {s.value: s for s in Status}
    fig = go.Figure(go.Bar(
        x=[r.kind for r in rows], y=[r.count for r in rows],
        marker_color=[COLORS.get(status.get(r.status, Status.CRASHED), "#d62728") for r in rows],
        text=[f"{r.count} ({r.share:.0%})" for r in rows], textposition="auto",
        hovertext=[f"{r.kind} ({r.status}): {r.count}<br>"
                   + "<br>".join(f"#{n}: {_text(reason, 70)}" for n, reason in r.examples)
                   for r in rows], hoverinfo="text"))
    fig.update_yaxes(title_text="experiments")
    return _layout(fig, "Failures by kind", height=360)


def categories(stats: list[CategoryStats], metric: Metric) -> go.Figure:
    names = [_text(s.category, 30) for s in stats]
    fig = make_subplots(rows=1, cols=2, subplot_titles=("tried and kept",
                                                        f"mean gain when kept ({metric.name})"))
    fig.add_trace(go.Bar(x=names, y=[s.tried for s in stats], name="tried",
                         marker_color="#9e9e9e"), row=1, col=1)
    fig.add_trace(go.Bar(x=names, y=[s.kept for s in stats], name="kept",
                         marker_color=COLORS[Status.KEPT]), row=1, col=1)
    fig.add_trace(go.Bar(x=names, y=[s.mean_gain or 0.0 for s in stats], name="mean gain",
                         marker_color="#1f77b4", showlegend=False,
                         text=["-" if s.mean_gain is None else f"{s.mean_gain:+.4f}"
                               for s in stats], textposition="auto"), row=1, col=2)
    fig.update_layout(barmode="group")
    return _layout(fig, "By category", height=380)


def cost(points: list[CostPoint]) -> go.Figure:
    fig = go.Figure(go.Scatter(
        x=[p.number for p in points], y=[p.cumulative_usd for p in points], mode="lines",
        line={"shape": "hv"}, name="cumulative cost", hoverinfo="x+y"))
    kept = [p for p in points if p.kept]
    fig.add_trace(go.Scatter(x=[p.number for p in kept], y=[p.cumulative_usd for p in kept],
                             mode="markers", name="kept", marker={"color": COLORS[Status.KEPT],
                                                                  "size": 8}))
    fig.update_xaxes(title_text="experiment")
    fig.update_yaxes(title_text="USD", tickprefix="$")
    return _layout(fig, "Cumulative LLM cost", height=360)


def _dimension(name: str, values: list[object], space: KnobSpace) -> dict[str, object]:
    dist = space.distributions[name]
    if hasattr(dist, "choices"):
        choices = list(dist.choices)  # type: ignore[attr-defined]
        return {"label": _text(name, 40), "values": [choices.index(v) for v in values],
                "tickvals": list(range(len(choices))),
                "ticktext": [_text(str(c), 20) for c in choices],
                "range": [0, max(1, len(choices) - 1)]}
    if name in space.log:
        low, high = math.log10(dist.low), math.log10(dist.high)  # type: ignore[attr-defined]
        ticks = [k + math.log10(m) for k in range(math.floor(low), math.ceil(high) + 1)
                 for m in (1, 3) if low <= k + math.log10(m) <= high]
        return {"label": f"{_text(name, 40)} (log)", "range": [low, high],
                "values": [math.log10(float(v)) for v in values],  # type: ignore[arg-type]
                "tickvals": ticks, "ticktext": [f"{10**t:.2g}" for t in ticks]}
    return {"label": _text(name, 40), "values": values,
            "range": [dist.low, dist.high]}  # type: ignore[attr-defined]


def parallel(points: list[Experiment], space: KnobSpace, metric: Metric) -> go.Figure:
    """One axis per knob that took more than one value, and the metric last."""
    knobs = [flat(e.proposal.knobs) for e in points]
    varied = [n for n in space.distributions if len({repr(k[n]) for k in knobs}) > 1]
    dims = [_dimension(n, [k[n] for k in knobs], space) for n in varied]
    values = [e.metric_mean for e in points]
    dims.append({"label": f"{metric.name} {metric.arrow}", "values": values})
    fig = go.Figure(go.Parcoords(
        dimensions=dims, labelangle=-20, labelside="top",
        line={"color": values, "colorscale": "Viridis",
              "reversescale": metric.direction is Direction.MIN, "showscale": True,
              "colorbar": {"title": {"text": metric.name}}}))
    fig.update_layout(template=TEMPLATE, height=460, title="Knob values of every scored "
                      "experiment (brighter = better)", margin={"l": 70, "r": 70, "t": 110,
                                                                "b": 40})
    return fig


def importance(result: Importance) -> go.Figure:
    ordered = sorted(result.values.items(), key=lambda kv: kv[1])
    fig = go.Figure(go.Bar(x=[v for _, v in ordered], y=[_text(k, 40) for k, _ in ordered],
                           orientation="h", marker_color="#1f77b4",
                           text=[f"{v:.0%}" for _, v in ordered], textposition="auto"))
    fig.update_xaxes(title_text="share of the metric's variance", tickformat=".0%")
    return _layout(fig, f"Knob importance: {result.evaluator}, {result.trials} experiments",
                   height=max(300, 40 + 28 * len(ordered)))

