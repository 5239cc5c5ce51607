"""The Task protocol: what the engine needs to know about a kind of work."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from importlib import import_module, resources
from pathlib import Path
from typing import Protocol, runtime_checkable

from autoresearch.metric import Metric
from autoresearch.sandbox.runner import Job, JobOptions, SeedJob
from autoresearch.sandbox.validator import ValidationResult, validate
from autoresearch.tasks._data import PreparedData


@runtime_checkable
class Task(Protocol):
    """A kind of research problem. Adding a built-in task means adding one folder."""

    name: str
    description: str
    metric: Metric
    default_budget: float
    #: Module that candidate code imports as ``harness`` (None for user projects).
    harness_module: str | None
    #: Harness functions every candidate must call (checked by the validator).
    required_calls: tuple[str, ...]

    def baseline_source(self) -> str: ...

    def prepare(self, cache_dir: Path, offline: bool) -> PreparedData: ...

    def prompt_section(self) -> str: ...

    def seed_job(self, code: str, seed: int, data: PreparedData, options: JobOptions) -> Job:
        """The sandboxed job that runs `code` on one seed."""
        ...

    def validate(self, code: str) -> ValidationResult:
        """Static checks before anything runs (the rules differ by kind of task)."""
        ...


@dataclass(frozen=True)
class ScriptTask:
    """A built-in task whose candidate is one training file importing a fixed harness."""

    name: str
    description: str
    metric: Metric
    default_budget: float
    package: str  # e.g. "autoresearch.tasks.shakespeare": holds baseline.py, prompt.md, data
    required_calls: tuple[str, ...] = ("evaluate",)
    tags: tuple[str, ...] = field(default=())

    @property
    def harness_module(self) -> str:
        return f"{self.package}.harness"

    def _read(self, filename: str) -> str:
        return resources.files(self.package).joinpath(filename).read_text(encoding="utf-8")

    def baseline_source(self) -> str:
        return self._read("baseline.py")

    def prompt_section(self) -> str:
        return self._read("prompt.md")

    def prepare(self, cache_dir: Path, offline: bool) -> PreparedData:
        return import_module(f"{self.package}.data").prepare(cache_dir, offline)

    def raw_files(self, data: PreparedData) -> list[Path]:
        """Where the data came from (a tarball, a package's copy, a download): it holds the
        sealed splits too, so runs must not see it. Declared by the task's data module."""
        module = import_module(f"{self.package}.data")
        finder = getattr(module, "raw_files", None)
        return [] if finder is None else list(finder(data.directory.parent))

    @property
    def scoring_module(self) -> str:
        """Where the evaluator finds the task's metric (it never runs candidate code)."""
        return f"{self.package}.scoring"

    def seed_job(self, code: str, seed: int, data: PreparedData, options: JobOptions) -> Job:
        hidden = (*options.hidden, *(p for p in self.raw_files(data) if p.exists()))
        return SeedJob(code=code, seed=seed, harness=self.harness_module,
                       scoring=self.scoring_module, data_dir=data.directory,
                       options=replace(options, hidden=hidden))

    def validate(self, code: str) -> ValidationResult:
        return validate(code, self.required_calls)
