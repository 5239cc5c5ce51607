"""Stores to report on (the short real run of tests/conftest.py, synthetic studies) and a
report opened offline in real headless Chromium (tests/browser.py)."""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.browser import open_page, screenshot

# A figure has drawn when its SVG holds a trace (parallel coordinates draw their axes in SVG
# and their lines in WebGL).
_HAS_DRAWN = "d => d.querySelector('svg.main-svg g.trace, svg.main-svg .parcoords')"
_PLOT_DIVS = "[...document.querySelectorAll('.plotly-graph-div')]"
ALL_DRAWN = f"() => {_PLOT_DIVS}.every({_HAS_DRAWN})"
PLOTS = f"() => {_PLOT_DIVS}.map(d => d.id)"
DRAWN = f"() => {_PLOT_DIVS}.filter({_HAS_DRAWN}).map(d => d.id)"


@pytest.fixture()
def report_env(cache_dir: Path) -> dict[str, str]:
    return {**os.environ, "AUTORESEARCH_CACHE": str(cache_dir), "AUTORESEARCH_OFFLINE": "1",
            "COLUMNS": "200"}


@dataclass(frozen=True)
class Opened:
    plots: list[str]  # id of every plot div
    drawn: list[str]  # those that drew their SVG
    errors: list[str]  # console errors and uncaught exceptions
    blocked: list[str]  # requests that tried to leave the file
    text: str  # the page's visible text (with every <details> opened)
    pwned: Any  # set only if markup from the store ran as script


def open_report(path: Path, shot: str | None = None, draw_ms: int = 30_000) -> Opened:
    """Open the file with every network request refused, wait up to `draw_ms` for the
    figures, look."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    with open_page() as tab:
        tab.page.goto(path.resolve().as_uri(), wait_until="load", timeout=60_000)
        with contextlib.suppress(PlaywrightTimeout):  # the counts below say which did not draw
            tab.page.wait_for_function(ALL_DRAWN, timeout=draw_ms)
        tab.page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
        opened = Opened(plots=tab.page.evaluate(PLOTS), drawn=tab.page.evaluate(DRAWN),
                        errors=list(tab.errors), blocked=list(tab.blocked),
                        text=tab.page.inner_text("body"),
                        pwned=tab.page.evaluate("window.__pwned"))
        if shot:
            screenshot(tab, shot, full_page=True)
    return opened
