"""A project's settings: from the command line, from `[tool.autoresearch]` in pyproject.toml or
from autoresearch.toml (written by `autoresearch init`), and the karpathy/autoresearch layout's
defaults. Options given on the command line win over the file, the file over the layout.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, fields, replace
from pathlib import Path

from autoresearch.errors import UsageError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

CONFIG_FILE = "autoresearch.toml"
PYPROJECT = "pyproject.toml"
TABLE = "tool.autoresearch"
# karpathy/autoresearch: a fixed prepare.py, the editable train.py, the researcher's program.md.
KARPATHY_FILES = ("prepare.py", "train.py", "program.md")


@dataclass(frozen=True)
class ProjectSettings:
    command: str | None = None
    metric: str | None = None
    metric_pattern: str | None = None
    direction: str | None = None
    edit: tuple[str, ...] = ()
    eval_command: str | None = None
    train_seconds: float | None = None

    def over(self, fallback: ProjectSettings) -> ProjectSettings:
        """These settings, with the unset ones taken from `fallback`."""
        return replace(self, **{f.name: getattr(fallback, f.name) for f in fields(self)
                                if not getattr(self, f.name)})

    def as_toml(self) -> str:
        lines = []
        for f in fields(self):
            value = getattr(self, f.name)
            if value:
                # JSON strings and arrays of strings are valid TOML basic strings and arrays.
                text = json.dumps(list(value) if isinstance(value, tuple) else value)
                lines.append(f"{f.name.replace('_', '-')} = {text}")
        return "\n".join(lines) + "\n"


def config_path(project: Path) -> Path | None:
    """The file holding the project's settings, if any."""
    own = project / CONFIG_FILE
    if own.is_file():
        return own
    pyproject = project / PYPROJECT
    if pyproject.is_file() and "autoresearch" in _load(pyproject).get("tool", {}):
        return pyproject
    return None


def read_settings(project: Path) -> ProjectSettings:
    """The settings file of `project` (empty settings without one)."""
    path = config_path(project)
    if path is None:
        return ProjectSettings()
    table = _load(path)
    if path.name == PYPROJECT:
        table = table["tool"]["autoresearch"]
    known = {f.name.replace("_", "-"): f.name for f in fields(ProjectSettings)}
    unknown = sorted(set(table) - set(known))
    if unknown:
        raise UsageError(f"{path}: unknown setting(s) {', '.join(unknown)}; known: "
                         f"{', '.join(known)}")
    values = {known[k]: v for k, v in table.items()}
    if isinstance(values.get("edit"), str):
        values["edit"] = (values["edit"],)
    try:
        settings = ProjectSettings(**{**values, "edit": tuple(values.get("edit", ()))})
    except TypeError as exc:
        raise UsageError(f"{path}: {exc}") from None
    if settings.train_seconds is not None and not isinstance(settings.train_seconds,
                                                             (int, float)):
        raise UsageError(f"{path}: train-seconds must be a number")
    return settings


def layout_defaults(project: Path) -> ProjectSettings:
    """karpathy/autoresearch's conventions when the folder has its shape, else nothing."""
    if all((project / name).is_file() for name in KARPATHY_FILES):
        return ProjectSettings(command="python train.py", metric="val_bpb", direction="min",
                               edit=("train.py",))
    return ProjectSettings()


def write_settings(project: Path, settings: ProjectSettings) -> Path:
    """Into pyproject.toml's [tool.autoresearch] when the project has one, else
    autoresearch.toml; an existing table is never overwritten."""
    pyproject = project / PYPROJECT
    if pyproject.is_file():
        if "autoresearch" in _load(pyproject).get("tool", {}):
            raise UsageError(f"{pyproject} already has [{TABLE}]: edit it, or remove it and "
                             "run init again")
        text = pyproject.read_text(encoding="utf-8")
        separator = "" if not text or text.endswith("\n\n") else (
            "\n" if text.endswith("\n") else "\n\n")
        pyproject.write_text(f"{text}{separator}[{TABLE}]\n{settings.as_toml()}",
                             encoding="utf-8")
        return pyproject
    own = project / CONFIG_FILE
    if own.exists():
        raise UsageError(f"{own} already exists: edit it, or remove it and run init again")
    own.write_text(f"# autoresearch settings for this project (`autoresearch run` reads "
                   f"them)\n{settings.as_toml()}", encoding="utf-8")
    return own


def _load(path: Path) -> dict:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise UsageError(f"cannot read {path}: {exc}") from None
