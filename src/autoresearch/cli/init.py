"""`init`: write a project's settings once, so that `autoresearch run` alone works there."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from autoresearch.cli import _common as c
from autoresearch.cli import _project as p
from autoresearch.errors import UsageError
from autoresearch.knobs import parse_knobs
from autoresearch.tasks._project import load_project
from autoresearch.tasks._project.settings import layout_defaults, write_settings

console = Console()


def init(
    project: p.ProjectOpt = None,
    command: p.CommandOpt = None,
    metric: p.MetricOpt = None,
    metric_pattern: p.PatternOpt = None,
    direction: p.DirectionOpt = None,
    edit: p.EditOpt = None,
    eval_command: p.EvalCommandOpt = None,
    train_seconds: c.TrainSecondsOpt = None,
) -> None:
    """Write the project's settings (command, metric, pattern, direction, edit files, budget)
    to [tool.autoresearch] of its pyproject.toml, or to autoresearch.toml."""
    root = project or Path.cwd()
    if not root.is_dir():
        raise UsageError(f"--project {root} is not a folder")
    settings = p.settings_of(command, metric, metric_pattern, direction, edit, eval_command,
                             train_seconds).over(layout_defaults(root))
    task = load_project(root, settings)  # every setting checked before anything is written
    written = write_settings(root, settings)
    console.print(f"wrote the settings of {task.name} to {written}", highlight=False)
    fixed = p.overridden_knobs(task, console)
    knobs = sorted(set(parse_knobs(task.baseline_source())) - fixed)
    if knobs:
        console.print(f"knobs the offline search will tune: {', '.join(knobs)}",
                      highlight=False)
    else:
        p.warn(console, "no `# search:` knob to tune: without an LLM key nothing can be "
                        "proposed; annotate one, e.g. `learning_rate = 6e-4  # search: log "
                        "1e-4..1e-2`")
    console.print("next: `autoresearch run` in that folder (`--max-experiments N`, "
                  "`--train-seconds S` as usual)", highlight=False)
