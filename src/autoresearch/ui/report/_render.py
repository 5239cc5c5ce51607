"""Jinja environment, filters and the HTML fragments made by trusted code (Plotly, Pygments).

Autoescaping is on: experiment text is escaped by the template. Only the fragments built
here are marked safe, and both libraries escape the text they are given."""

from __future__ import annotations

import time
from functools import cache
from importlib import resources

import plotly.graph_objects as go
from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import DiffLexer

PACKAGE = "autoresearch.ui.report"
PLOT_CONFIG = {"displaylogo": False, "responsive": True}


@cache
def environment() -> Environment:
    env = Environment(loader=PackageLoader(PACKAGE, "templates"), autoescape=True,
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["num"] = number
    env.filters["signed"] = signed
    env.filters["duration"] = duration
    env.filters["when"] = when
    return env


def stylesheet() -> Markup:
    css = resources.files(PACKAGE).joinpath("templates/report.css").read_text(encoding="utf-8")
    return Markup(css + HtmlFormatter(style="default").get_style_defs(".diff"))


def figure_html(fig: go.Figure, div_id: str, plotlyjs: bool | str) -> Markup:
    """One figure as a div and its script; `plotlyjs` is True (inline the library), "cdn" or
    False (already loaded by an earlier figure)."""
    return Markup(fig.to_html(full_html=False, include_plotlyjs=plotlyjs, div_id=div_id,
                              config=PLOT_CONFIG))


def diff_html(diff: str) -> Markup:
    if not diff.strip():
        return Markup("")
    return Markup(highlight(diff, DiffLexer(), HtmlFormatter(cssclass="diff")))


def number(value: float | None, digits: int = 4) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def signed(value: float | None, digits: int = 4) -> str:
    return "-" if value is None else f"{value:+.{digits}f}"


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    seconds = round(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    return f"{minutes} min {secs:02d} s" if minutes else f"{secs} s"


def when(timestamp: float | None) -> str:
    if timestamp is None:
        return "-"
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(timestamp))
