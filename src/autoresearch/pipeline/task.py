"""A tabular table as an engine Task: a candidate is a combo's rendered code, a seed is one CV
repeat (so the engine's early stop after a bad first repeat applies), and the sealed holdout
is scored for a kept combo before its verdict."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from autoresearch.metric import Metric
from autoresearch.pipeline.catalog import Renderer
from autoresearch.pipeline.executor import CVJob
from autoresearch.pipeline.space import SearchSpace
from autoresearch.pipeline.table import Table
from autoresearch.sandbox import JobOptions
from autoresearch.sandbox.validator import ValidationResult, validate
from autoresearch.tasks import PreparedData


@dataclass
class TabularTask:
    table: Table
    space: SearchSpace
    render: Renderer
    default_budget: float = 300.0  # seconds per CV repeat
    harness_module: str | None = None
    required_calls: tuple[str, ...] = field(default=())
    split: tuple[tuple[str, str], ...] = ()  # (slot, source) of a user's pipeline file

    @property
    def name(self) -> str:
        return self.table.task_name

    @property
    def description(self) -> str:
        return f"tabular pipelines on {self.table.name}"

    @property
    def metric(self) -> Metric:
        return self.table.metric

    def baseline_source(self) -> str:
        return self.render.render(self.space.default_combo())

    def baseline_knobs(self) -> dict[str, Any]:
        knobs = self.space.default_combo().knobs()
        return {**knobs, "split": [list(s) for s in self.split]} if self.split else knobs

    def prepare(self, cache_dir: Path, offline: bool) -> PreparedData:
        return PreparedData(self.table.directory, self.table.content_hash, self.table.origin,
                            {"rows": self.table.rows})

    def prompt_section(self) -> str:
        return ""

    def seed_job(self, code: str, seed: int, data: PreparedData, options: JobOptions) -> CVJob:
        return CVJob(code, seed, options.budget_seconds)

    def holdout_job(self, code: str, data: PreparedData, options: JobOptions) -> CVJob:
        return CVJob(code, self.table.seeds[0], options.budget_seconds, holdout=True)

    def validate(self, code: str) -> ValidationResult:
        return validate(code, uses_harness=False)
