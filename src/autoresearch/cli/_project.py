"""Project folders on the command line: the options every command shares, the settings file,
the checks made before a baseline runs, and what a failed baseline prints."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from autoresearch.errors import BaselineFailed, MachineBusy, UsageError
from autoresearch.knobs import KnobError, parse_knobs
from autoresearch.records import Experiment, Status
from autoresearch.search.notes import SEED_IGNORED, seed_ignored
from autoresearch.tasks import Task
from autoresearch.tasks._project import ProjectTask, load_project
from autoresearch.tasks._project.hints import likely_fix, log_tail
from autoresearch.tasks._project.overrides import find_overrides, fixed_knobs
from autoresearch.tasks._project.settings import (
    ProjectSettings,
    config_path,
    layout_defaults,
    read_settings,
)

PANEL = "Project folder (bring your own training script)"

ProjectOpt = Annotated[Path | None, typer.Option(
    "--project", help="Your project folder (default: the current folder when it has "
    "autoresearch settings, see `init`).", rich_help_panel=PANEL)]
CommandOpt = Annotated[str | None, typer.Option(
    "--command", help='Training command, e.g. "python train.py"; shell syntax (pipes) runs '
    "in bash with pipefail.", rich_help_panel=PANEL)]
MetricOpt = Annotated[str | None, typer.Option(
    "--metric", help="Name of the metric the script prints.", rich_help_panel=PANEL)]
PatternOpt = Annotated[str | None, typer.Option(
    "--metric-pattern", help="Regular expression whose first group is the metric, e.g. "
    "'val loss ([0-9.]+)'; the last match counts.", rich_help_panel=PANEL)]
DirectionOpt = Annotated[str | None, typer.Option(
    "--direction", help="min or max.", rich_help_panel=PANEL)]
EditOpt = Annotated[list[str] | None, typer.Option(
    "--edit", help="A file candidates may change (repeatable).", rich_help_panel=PANEL)]
EvalCommandOpt = Annotated[str | None, typer.Option(
    "--eval-command", help="Run after training, in its own process; the metric is read from "
    "its output only.", rich_help_panel=PANEL)]


def settings_of(command: str | None, metric: str | None, pattern: str | None,
                direction: str | None, edit: list[str] | tuple[str, ...] | None,
                eval_command: str | None, train_seconds: float | None = None
                ) -> ProjectSettings:
    return ProjectSettings(command=command, metric=metric, metric_pattern=pattern,
                           direction=direction, edit=tuple(edit or ()),
                           eval_command=eval_command, train_seconds=train_seconds)


def project_task(project: Path | None, options: ProjectSettings, task: str | None,
                 ignored: tuple[Path, ...] = ()) -> ProjectTask | None:
    """The project named by --project, or the current folder when it has settings and no
    --task is given; None when the command is about a built-in task."""
    given = [name for name, value in (
        ("--command", options.command), ("--metric", options.metric),
        ("--metric-pattern", options.metric_pattern), ("--direction", options.direction),
        ("--edit", options.edit), ("--eval-command", options.eval_command)) if value]
    if project is not None and task:
        raise UsageError("pass either --task or --project, not both")
    if task and task.startswith("project:"):  # --task project:PATH, as status takes it
        project, task = Path(task.split(":", 1)[1]).expanduser(), None
    if project is None and not task and config_path(Path.cwd()) is not None:
        project = Path.cwd()
    if project is None:
        if given:
            raise UsageError(f"{', '.join(given)} only apply to --project DIR")
        return None
    if not project.is_dir():
        raise UsageError(f"--project {project} is not a folder")
    settings = options.over(read_settings(project)).over(layout_defaults(project))
    return load_project(project, settings, ignored=ignored)


def overridden_knobs(task: Task, console: Console) -> frozenset[str]:
    """Warn about the knobs a project's script overrides after setting them; returns those
    it certainly overrides, which the search must leave alone."""
    if not isinstance(task, ProjectTask):
        return frozenset()
    overrides = find_overrides(task.project, task.command, task.edit, task.baseline_source())
    for override in overrides:
        warn(console, override.message())
    return fixed_knobs(overrides)


def check_knobs(task: Task, fixed: frozenset[str]) -> None:
    """The offline search needs a knob to turn: say so before any baseline runs."""
    try:
        knobs = set(parse_knobs(task.baseline_source())) - fixed
    except (KnobError, SyntaxError) as exc:
        raise UsageError(f"cannot read the knobs of {_files(task)}: {exc}") from None
    if not knobs:
        overridden = f" ({len(fixed)} overridden by the script)" if fixed else ""
        raise UsageError(
            f"nothing can be proposed: the offline search tunes `# search:` knobs and "
            f"{_files(task)} has none it can turn{overridden}. Annotate one, e.g. "
            "`learning_rate = 6e-4  # search: log 1e-4..1e-2`, or set an LLM key "
            "(ANTHROPIC_API_KEY, OPENAI_API_KEY, ...) so that a model proposes changes")


def _files(task: Task) -> str:
    return ", ".join(task.edit) if isinstance(task, ProjectTask) else f"{task.name}'s baseline"


def report_baseline(task: Task, baseline: Experiment, console: Console) -> None:
    """Warn about a baseline whose seeds agree bit for bit; explain a failed one and stop."""
    if seed_ignored(baseline.seed_runs):
        warn(console, SEED_IGNORED.format(metric=task.metric.name) + " (AUTORESEARCH_SEED): "
             "seed every generator from it, or save time with a single --seeds value")
    if isinstance(task, ProjectTask):
        written = sorted({n for r in baseline.seed_runs for n in r.extra.get("outputs", ())}
                         & set(task.files()))
        if written:
            console.print(f"   the baseline overwrote {', '.join(written[:6])}: outputs a "
                          "run may overwrite; every other file stays fixed", highlight=False)
    if baseline.status is Status.INTERFERED:  # the next `run` retries it
        raise MachineBusy(f"the baseline was not judged: {baseline.reason}; run the same "
                          "command when the machine is quieter (it resumes)")
    if baseline.status is not Status.KEPT:  # failed: the next `run` retries it
        failed = next((r for r in baseline.seed_runs if not r.ok), None)
        if failed is not None and failed.log_tail.strip():
            console.print(f"[bold]log tail of seed {failed.seed}:[/]\n"
                          f"{escape(log_tail(failed))}", highlight=False)
        fix = likely_fix(task, failed) if isinstance(task, ProjectTask) and failed else ""
        raise BaselineFailed(f"the baseline failed ({baseline.status.value}): "
                             f"{baseline.reason}" + (f"\nlikely fix: {fix}" if fix else ""))


def warn(console: Console, message: str) -> None:
    console.print(f"[bold yellow]warning:[/] {escape(message)}", highlight=False)
