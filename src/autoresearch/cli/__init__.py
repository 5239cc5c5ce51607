"""The `autoresearch` command line."""

from __future__ import annotations

import sys

import click
import typer
from rich.console import Console
from rich.markup import escape

from autoresearch.cli import commands
from autoresearch.cli._common import EXIT_INTERRUPTED
from autoresearch.errors import AutoresearchError

app = typer.Typer(
    name="autoresearch",
    help="Autonomous ML research: propose experiments, run them sandboxed on several seeds, "
    "keep only what truly improves the task's metric, and record everything.\n\n"
    "Exit codes: 0 ok, 1 internal error, 2 bad usage, 3 storage problem, 4 data unavailable, "
    "5 the evaluated candidate or the baseline failed, 6 the LLM provider failed, 130 "
    "interrupted.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
commands.register(app)


def _click_errors() -> tuple[tuple[type[Exception], ...], tuple[type[BaseException], ...]]:
    """Usage errors and aborts of click and of the click that typer >= 0.25 vendors
    (`typer._click`): a mistyped option must print usage and exit 2, never a traceback."""
    errors: list[type[Exception]] = [click.ClickException]
    try:
        from typer._click.exceptions import ClickException
    except ImportError:  # an older typer: click's own exceptions
        pass
    else:
        errors.append(ClickException)
    return tuple(errors), (click.exceptions.Abort, typer.Abort)


CLICK_ERRORS, CLICK_ABORTS = _click_errors()


def main() -> None:
    try:
        # Without standalone mode click returns an Exit's code instead of raising it.
        code = app(standalone_mode=False)
    except AutoresearchError as exc:
        Console(stderr=True).print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        Console(stderr=True).print("interrupted; finished experiments are saved, `run` resumes")
        sys.exit(EXIT_INTERRUPTED)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except SystemExit:
        raise
    except CLICK_ABORTS:
        Console(stderr=True).print("aborted")
        sys.exit(EXIT_INTERRUPTED)
    except CLICK_ERRORS as exc:  # bad options and the like: usage and exit 2
        exc.show()  # type: ignore[attr-defined]
        sys.exit(exc.exit_code)  # type: ignore[attr-defined]
    sys.exit(code if isinstance(code, int) else 0)
