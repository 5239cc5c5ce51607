"""Executors run seed jobs somewhere and hand back SeedRun records."""

from __future__ import annotations

from concurrent.futures import Future
from typing import Protocol

from autoresearch.execution.local import LocalExecutor
from autoresearch.sandbox import Job
from autoresearch.storage.records import SeedRun


class Executor(Protocol):
    def submit(self, job: Job) -> Future[SeedRun]: ...

    def shutdown(self) -> None: ...


__all__ = ["Executor", "LocalExecutor"]
