"""Server-side syntax highlighting of candidate code and diffs (Pygments escapes the text)."""

from __future__ import annotations

from functools import cache, lru_cache

from markupsafe import Markup
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import DiffLexer, PythonLexer

STYLE = "github-dark"
_CSS_CLASS = "hl"


# A candidate's code and diff never change once written, and a detail page is polled while
# its experiment runs: highlighting (tens of ms for a few hundred lines) is done once.
@lru_cache(maxsize=128)
def code(source: str) -> Markup:
    return _render(source, PythonLexer(), line_numbers=True)


@lru_cache(maxsize=128)
def diff(text: str) -> Markup:
    return _render(text, DiffLexer(), line_numbers=False)


def _render(text: str, lexer: PythonLexer | DiffLexer, line_numbers: bool) -> Markup:
    formatter = HtmlFormatter(cssclass=_CSS_CLASS, linenos="table" if line_numbers else False,
                              style=STYLE)
    # Pygments HTML-escapes every token, so its output is safe to mark as markup.
    return Markup(highlight(text, lexer, formatter))


@cache
def stylesheet() -> str:
    return str(HtmlFormatter(style=STYLE, cssclass=_CSS_CLASS).get_style_defs(f".{_CSS_CLASS}"))
