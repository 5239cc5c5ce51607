"""A user's project folder as a task: the `--edit` files are the candidate, the training command
is run in a fresh copy of the folder, and the metric is read from what it (or the eval command)
prints."""

from __future__ import annotations

import ast
import hashlib
import shlex
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path

import jinja2

from autoresearch.bundle import MARKER, BundleError, pack, sections
from autoresearch.errors import UsageError
from autoresearch.metric import Direction, Metric
from autoresearch.records import Experiment, FailureKind
from autoresearch.sandbox.command import BUDGET_ENV, SEED_ENV, CommandJob
from autoresearch.sandbox.runner import Job, JobOptions
from autoresearch.sandbox.summary import FORMATS, PatternError, compile_pattern
from autoresearch.sandbox.validator import ValidationResult
from autoresearch.sandbox.workspace import fingerprint, project_files
from autoresearch.tasks._data import PreparedData
from autoresearch.tasks._project.overrides import find_overrides
from autoresearch.tasks._project.settings import ProjectSettings

DEFAULT_BUDGET = 300.0  # karpathy/autoresearch's five minutes
PROMPT_FILES_SHOWN = 40
PROGRAM_FILE = "program.md"  # karpathy/autoresearch: the researcher's instructions
PROGRAM_CHARS = 8000


@dataclass(frozen=True)
class ProjectTask:
    """Implements the Task protocol for a folder with a training command."""

    project: Path
    command: str
    edit: tuple[str, ...]
    metric: Metric
    metric_format: str = "auto"
    metric_pattern: str | None = None
    eval_command: str | None = None
    default_budget: float = DEFAULT_BUDGET
    # Files a candidate's run may overwrite: what the baseline's runs wrote (see with_baseline).
    outputs: tuple[str, ...] = ()
    # Our store's files, when they sit in the project: never part of it, nor of its hash.
    ignored: tuple[Path, ...] = ()
    harness_module: None = None
    required_calls: tuple[str, ...] = field(default=())

    @property
    def name(self) -> str:
        return f"project:{self.project.name}"

    @property
    def source(self) -> str:
        """How studies of this project are recorded (`data_source` in the store)."""
        return f"project {self.project}"

    @property
    def description(self) -> str:
        return f"`{self.command}` in {self.project}, editing {', '.join(self.edit)}"

    def files(self) -> list[str]:
        return project_files(self.project, self.ignored)

    def baseline_source(self) -> str:
        return pack({name: (self.project / name).read_text(encoding="utf-8")
                     for name in self.edit})

    def with_baseline(self, baseline: Experiment) -> ProjectTask:
        """The files the user's own code wrote in its baseline runs are outputs from now on."""
        written = {name for run in baseline.seed_runs for name in run.extra.get("outputs", ())}
        return replace(self, outputs=tuple(sorted(written & set(self.files()))))

    def prepare(self, cache_dir: Path, offline: bool) -> PreparedData:
        """The project itself is the data: a study is bound to the exact folder, commands and
        metric (any change to a file starts a new study with its own baseline)."""
        digest = hashlib.sha256()
        for part in (self.command, self.metric.name, self.metric.direction.value,
                     self.metric_format, *self.edit):
            digest.update(part.encode() + b"\0")
        for part in (self.metric_pattern, self.eval_command):  # absent: the hash of old studies
            if part:
                digest.update(part.encode() + b"\1")
        names = self.files()
        total = 0
        for name in names:
            path = self.project / name
            digest.update(name.encode() + b"\0" + fingerprint(path).encode() + b"\0")
            total += path.stat().st_size
        return PreparedData(self.project, digest.hexdigest()[:16], self.source,
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
        fixed = [n for n in self.files() if n not in self.edit]
        source = resources.files(__package__).joinpath("prompt.md.j2").read_text(encoding="utf-8")
        template = jinja2.Environment(undefined=jinja2.StrictUndefined,
                                      keep_trailing_newline=True).from_string(source)
        program = self.project / PROGRAM_FILE
        return template.render(
            task=self, fixed=fixed[:PROMPT_FILES_SHOWN],
            more=max(0, len(fixed) - PROMPT_FILES_SHOWN), marker=MARKER,
            lower=self.metric.direction is Direction.MIN, seed_env=SEED_ENV,
            budget_env=BUDGET_ENV, program=_read_text(program)[:PROGRAM_CHARS],
            overrides=[o.message() for o in find_overrides(
                self.project, self.command, self.edit, self.baseline_source())],
        )

    def seed_job(self, code: str, seed: int, data: PreparedData, options: JobOptions) -> Job:
        # The user's own files are trusted to write anywhere: what they write are the outputs.
        outputs = None if code == self.baseline_source() else self.outputs
        hidden = (*options.hidden, *self.ignored)
        return CommandJob(code=code, seed=seed, project=self.project, command=self.command,
                          edit=self.edit, metric=self.metric.name,
                          options=replace(options, hidden=hidden),
                          metric_format=self.metric_format, metric_pattern=self.metric_pattern,
                          eval_command=self.eval_command, outputs=outputs)


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return ""


def load_project(project: Path, settings: ProjectSettings, metric_format: str = "auto",
                 ignored: tuple[Path, ...] = ()) -> ProjectTask:
    """A ProjectTask from the user's settings; every problem is a one-line UsageError."""
    if not project.is_dir():
        raise UsageError(f"--project {project} is not a folder")
    root = project.resolve()
    command, metric, direction = settings.command, settings.metric, settings.direction
    if not command or not shlex.split(command):
        raise UsageError('pass the training command with --command, e.g. --command '
                         '"python train.py" (or run `autoresearch init` in the project)')
    if not metric:
        raise UsageError("pass --metric NAME: the key the command prints at the end, as "
                         "`NAME: value` or in a JSON line (or name it and pass --metric-pattern)")
    if not direction:
        raise UsageError(f"pass --direction min or max: is a lower or a higher {metric} better?")
    try:
        parsed = Direction.parse(direction)
    except ValueError as exc:
        raise UsageError(f"--direction: {exc}") from None
    if metric_format not in FORMATS:
        raise UsageError(f"metric format must be one of {', '.join(FORMATS)}")
    if settings.metric_pattern is not None:
        try:
            compile_pattern(settings.metric_pattern)
        except PatternError as exc:
            raise UsageError(f"--metric-pattern: {exc}") from None
    if settings.eval_command is not None and not shlex.split(settings.eval_command):
        raise UsageError("--eval-command is empty")
    if not settings.edit:
        raise UsageError("pass --edit FILE (repeatable): the file(s) candidates may change")
    if settings.train_seconds is not None and not settings.train_seconds > 0:
        raise UsageError(f"train-seconds must be > 0, got {settings.train_seconds:g}")
    names = tuple(dict.fromkeys(_edit_name(root, e, ignored) for e in settings.edit))
    return ProjectTask(project=root, command=command, edit=names,
                       metric=Metric(metric, parsed), metric_format=metric_format,
                       metric_pattern=settings.metric_pattern,
                       eval_command=settings.eval_command,
                       default_budget=float(settings.train_seconds or DEFAULT_BUDGET),
                       ignored=ignored)


def _edit_name(root: Path, name: str, ignored: tuple[Path, ...]) -> str:
    path = (root / name).resolve()
    if not path.is_relative_to(root) or path == root:
        raise UsageError(f"--edit {name} is not inside the project {root}")
    if not path.is_file():
        raise UsageError(f"--edit {name}: no such file in {root}")
    relative = path.relative_to(root).as_posix()
    if relative not in project_files(root, ignored):
        raise UsageError(f"--edit {name} is ignored by autoresearch (a cache, VCS or store file)")
    try:
        path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise UsageError(f"--edit {name} is not a UTF-8 text file") from None
    return relative
