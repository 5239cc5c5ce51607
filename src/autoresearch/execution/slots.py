"""Worker slots: each owns a share of the CPU cores, or one GPU, and runs one job at a time."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from autoresearch.execution.hardware import Hardware
from autoresearch.sandbox import Job, JobOptions


@dataclass(frozen=True)
class Slot:
    index: int
    cpus: tuple[int, ...]
    gpu: int | None = None

    def apply(self, options: JobOptions) -> JobOptions:
        """The job's options confined to this slot: its cores (threads and affinity), its GPU."""
        limits = dataclasses.replace(options.limits, cpus=self.cpus)
        gpus = str(self.gpu) if self.gpu is not None and options.device != "cpu" else None
        device = "cuda:0" if gpus is not None and options.device.startswith("cuda") \
            else options.device  # the slot's GPU is the only one its runs see
        return dataclasses.replace(options, threads=len(self.cpus), limits=limits, gpus=gpus,
                                   device=device)

    def pin(self, job: Job) -> Job:
        options = getattr(job, "options", None)
        if not isinstance(options, JobOptions):
            return job
        return dataclasses.replace(job, options=self.apply(options))  # type: ignore[type-var]


def plan_slots(workers: int, hardware: Hardware) -> list[Slot]:
    """Split the cores evenly (at least one each); give each slot its own GPU when there are
    enough of them."""
    cpus = list(hardware.cpus) or [0]
    share = max(1, len(cpus) // workers)
    slots = []
    for i in range(workers):
        mine = cpus[i * share:(i + 1) * share] if (i + 1) * share <= len(cpus) else \
            [cpus[i % len(cpus)]]
        gpu = hardware.gpus[i].index if i < len(hardware.gpus) else None
        slots.append(Slot(i, tuple(mine), gpu))
    return slots
