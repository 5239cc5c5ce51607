"""Task registry: every sub-package of this package that defines ``TASK`` is a built-in task."""

from __future__ import annotations

import pkgutil
from functools import cache
from importlib import import_module

from autoresearch.errors import UsageError
from autoresearch.metric import Direction, Metric
from autoresearch.tasks._base import ScriptTask, Task
from autoresearch.tasks._data import PreparedData

__all__ = ["Direction", "Metric", "PreparedData", "ScriptTask", "Task", "all_tasks", "get_task"]


@cache
def all_tasks() -> dict[str, Task]:
    found: dict[str, Task] = {}
    for info in pkgutil.iter_modules(__path__):
        if info.ispkg and not info.name.startswith("_"):
            task = getattr(import_module(f"{__name__}.{info.name}"), "TASK", None)
            if task is not None:
                found[task.name] = task
    return dict(sorted(found.items()))


def get_task(name: str) -> Task:
    tasks = all_tasks()
    if name not in tasks:
        known = ", ".join(tasks) or "none"
        raise UsageError(f"unknown task {name!r}; known tasks: {known} (see `autoresearch tasks`)")
    return tasks[name]
