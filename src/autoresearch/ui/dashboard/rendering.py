"""The Jinja environment: package templates, escaping always on, undefined names are errors."""

from __future__ import annotations

import math
import time
from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined

from autoresearch.records import Status


def fmt(value: float | None, digits: int = 4) -> str:
    if value is None or not math.isfinite(value):
        return "–"
    return f"{value:.{digits}f}"


def signed(value: float | None, digits: int = 4) -> str:
    return "–" if value is None else f"{value:+.{digits}f}"


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    seconds = max(0.0, seconds)
    if seconds < 60:
        return f"{seconds:.0f}s" if seconds >= 10 else f"{seconds:.1f}s"
    if seconds < 3600:
        return f"{seconds // 60:.0f}m {seconds % 60:02.0f}s"
    return f"{seconds // 3600:.0f}h {seconds % 3600 // 60:02.0f}m"


def ago(timestamp: float | None, now: float | None = None) -> str:
    if timestamp is None:
        return "never"
    return f"{duration((now or time.time()) - timestamp)} ago"


def clock(timestamp: float | None) -> str:
    if timestamp is None:
        return ""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(timestamp))


def status_class(status: Status | str) -> str:
    value = status.value if isinstance(status, Status) else status
    return f"st-{value}"


@cache
def environment() -> Environment:
    # Autoescape for every template whatever its extension: experiment text (descriptions,
    # reasons, log tails) is written by candidates and must never become markup.
    env = Environment(loader=PackageLoader("autoresearch.ui.dashboard", "templates"),
                      autoescape=True, undefined=StrictUndefined, trim_blocks=True,
                      lstrip_blocks=True)
    env.filters.update(fmt=fmt, signed=signed, duration=duration, ago=ago, clock=clock,
                       status_class=status_class)
    return env


def render(name: str, **context: Any) -> str:
    return environment().get_template(name).render(**context)
