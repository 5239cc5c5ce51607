"""Prompt templates shipped in the package, rendered with strict undefined variables."""

from __future__ import annotations

from functools import cache
from typing import Any

import jinja2


@cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("autoresearch.llm", "templates"),
        undefined=jinja2.StrictUndefined,  # a missing variable is a bug, not an empty string
        autoescape=False,  # Markdown for a model, not HTML
        trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
    )


def render(name: str, **variables: Any) -> str:
    return _environment().get_template(name).render(**variables)
