"""Executors run seed jobs somewhere and hand back SeedRun records."""

from __future__ import annotations

from concurrent.futures import Future
from typing import Protocol

from autoresearch.errors import UsageError
from autoresearch.execution.hardware import Hardware, detect
from autoresearch.execution.local import LocalExecutor
from autoresearch.execution.slots import Slot, plan_slots
from autoresearch.records import SeedRun
from autoresearch.sandbox import Job


class Executor(Protocol):
    workers: int

    def submit(self, job: Job) -> Future[SeedRun]: ...

    def shutdown(self) -> None: ...


def make_executor(kind: str, workers: int | None, ray_address: str | None = None,
                  fork_server: bool = True) -> Executor:
    """`local`: `workers` slots (default: one per GPU, else one); `ray`: a Ray cluster."""
    if kind == "local":
        hardware = detect()
        return LocalExecutor(plan_slots(workers or hardware.default_workers, hardware),
                             fork_server=fork_server)
    if kind == "ray":
        from autoresearch.execution.ray import RayExecutor

        return RayExecutor(address=ray_address, num_cpus=workers, fork_server=fork_server)
    raise UsageError(f"--executor must be local or ray, got {kind!r}")


__all__ = ["Executor", "Hardware", "LocalExecutor", "Slot", "detect", "make_executor",
           "plan_slots"]
