"""A user's project folder as a task: the `--edit` files are the candidate, the training command
is run in a fresh read-only copy of the folder, and the metric is read from what it prints."""

from __future__ import annotations

import ast
import hashlib
import shlex
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import jinja2

from autoresearch.bundle import MARKER, BundleError, pack, sections
from autoresearch.errors import UsageError
from autoresearch.metric import Direction, Metric
from autoresearch.records import FailureKind
from autoresearch.sandbox.command import BUDGET_ENV, SEED_ENV, CommandJob
from autoresearch.sandbox.runner import Job, JobOptions
from autoresearch.sandbox.summary import FORMATS
from autoresearch.sandbox.validator import ValidationResult
from autoresearch.sandbox.workspace import fingerprint, project_files
from autoresearch.tasks._data import PreparedData

DEFAULT_BUDGET = 300.0  # karpathy/autoresearch's five minutes
PROMPT_FILES_SHOWN = 40


@dataclass(frozen=True)
class ProjectTask:
    """Implements the Task protocol for a folder with a training command."""

    project: Path
    command: str
    edit: tuple[str, ...]
    metric: Metric
    metric_format: str = "auto"
    default_budget: float = DEFAULT_BUDGET
    harness_module: None = None
    required_calls: tuple[str, ...] = field(default=())

    @property
    def name(self) -> str:
        return f"project:{self.project.name}"

    @property
    def description(self) -> str:
        return f"`{self.command}` in {self.project}, editing {', '.join(self.edit)}"

    def baseline_source(self) -> str:
        return pack({name: (self.project / name).read_text(encoding="utf-8")
                     for name in self.edit})

    def prepare(self, cache_dir: Path, offline: bool) -> PreparedData:
        """The project itself is the data: a study is bound to the exact folder, command and
        metric (any change to a file starts a new study with its own baseline)."""
        digest = hashlib.sha256()
        for part in (self.command, self.metric.name, self.metric.direction.value,
                     self.metric_format, *self.edit):
            digest.update(part.encode() + b"\0")
        names = project_files(self.project)
        total = 0
        for name in names:
            path = self.project / name
            digest.update(name.encode() + b"\0" + fingerprint(path).encode() + b"\0")
            total += path.stat().st_size
        return PreparedData(self.project, digest.hexdigest()[:16], f"project {self.project}",
                            {"files": len(names), "bytes": total})

    def validate(self, code: str) -> ValidationResult:
        """The files must all be there and the Python ones must parse; nothing more is asked
        of a user's own script (see the trust model in sandbox/command.py)."""
        try:
            found = sections(code, self.edit)
        except BundleError as exc:
            return ValidationResult(FailureKind.VALIDATION, (str(exc),))
        for section in found:
            if section.name.endswith(".py"):
                try:
                    ast.parse(section.text, filename=section.name)
                except SyntaxError as exc:
                    return ValidationResult(FailureKind.SYNTAX,
                                            (f"{section.name} line {exc.lineno}: {exc.msg}",))
        return ValidationResult(None)

    def prompt_section(self) -> str:
        names = project_files(self.project)
        fixed = [n for n in names if n not in self.edit]
        source = resources.files(__package__).joinpath("prompt.md.j2").read_text(encoding="utf-8")
        template = jinja2.Environment(undefined=jinja2.StrictUndefined,
                                      keep_trailing_newline=True).from_string(source)
        return template.render(
            task=self, fixed=fixed[:PROMPT_FILES_SHOWN],
            more=max(0, len(fixed) - PROMPT_FILES_SHOWN), marker=MARKER,
            lower=self.metric.direction is Direction.MIN, seed_env=SEED_ENV,
            budget_env=BUDGET_ENV,
        )

    def seed_job(self, code: str, seed: int, data: PreparedData, options: JobOptions) -> Job:
        return CommandJob(code=code, seed=seed, project=self.project, command=self.command,
                          edit=self.edit, metric=self.metric.name, options=options,
                          metric_format=self.metric_format)


def load_project(project: Path, command: str | None, metric: str | None,
                 direction: str | None, edit: tuple[str, ...],
                 metric_format: str = "auto") -> ProjectTask:
    """A ProjectTask from the user's options; every problem is a one-line UsageError."""
    if not project.is_dir():
        raise UsageError(f"--project {project} is not a folder")
    root = project.resolve()
    if not command or not shlex.split(command):
        raise UsageError('pass the training command with --command, e.g. --command '
                         '"python train.py"')
    if not metric:
        raise UsageError("pass --metric NAME: the key the command prints at the end, as "
                         "`NAME: value` or in a JSON line")
    if not direction:
        raise UsageError(f"pass --direction min or max: is a lower or a higher {metric} better?")
    try:
        parsed = Direction.parse(direction)
    except ValueError as exc:
        raise UsageError(f"--direction: {exc}") from None
    if metric_format not in FORMATS:
        raise UsageError(f"metric format must be one of {', '.join(FORMATS)}")
    if not edit:
        raise UsageError("pass --edit FILE (repeatable): the file(s) candidates may change")
    names = tuple(dict.fromkeys(_edit_name(root, e) for e in edit))
    return ProjectTask(project=root, command=command, edit=names,
                       metric=Metric(metric, parsed), metric_format=metric_format)


def _edit_name(root: Path, name: str) -> str:
    path = (root / name).resolve()
    if not path.is_relative_to(root) or path == root:
        raise UsageError(f"--edit {name} is not inside the project {root}")
    if not path.is_file():
        raise UsageError(f"--edit {name}: no such file in {root}")
    relative = path.relative_to(root).as_posix()
    if relative not in project_files(root):
        raise UsageError(f"--edit {name} is ignored by autoresearch (a cache, VCS or store file)")
    try:
        path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise UsageError(f"--edit {name} is not a UTF-8 text file") from None
    return relative
