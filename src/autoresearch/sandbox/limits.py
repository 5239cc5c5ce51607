"""Resource limits a seed run gets.

rlimits are applied by the bootstrap to itself before candidate code runs; the memory and
process ceilings are also enforced by a cgroup when one is available (see cgroups.py).
"""

from __future__ import annotations

import resource
from dataclasses import dataclass

GIB = 1024**3
MIB = 1024**2
OOM_MARKERS = ("out of memory", "can't allocate memory", "defaultcpuallocator", "cannot allocate")


def budget_slack(budget_seconds: float) -> float:
    """How far past its budget a run may hand over its model: the last step, and the export
    (a tenth of a second warm, but a step and the export both slow down on a busy machine)."""
    return max(3.0, 0.1 * budget_seconds)


BUDGET_UNITS = ("wall", "cpu")
# A CPU-second budget is enforced by RLIMIT_CPU; the wall clock only stops a run that takes far
# longer than its CPU budget (a machine so busy that the run barely moves).
CPU_BUDGET_WALL_FACTOR = 4.0


def setup_allowance(budget_seconds: float) -> float:
    """How long a run may take before it asks for the training data (building the model);
    the training clock starts then at the latest."""
    return max(10.0, 0.25 * budget_seconds)


@dataclass(frozen=True)
class Limits:
    memory_bytes: int | None = 8 * GIB  # address space (CPU runs) and cgroup memory ceiling
    gpu_host_memory_bytes: int | None = 32 * GIB  # cgroup ceiling for GPU runs (no RLIMIT_AS)
    processes: int = 512  # cgroup pids.max: threads count too
    file_bytes: int = 1 * GIB  # largest file the run may write
    open_files: int = 1024
    cpu_seconds: int | None = None  # set from the budget by the runner
    output_bytes: int = 64 * 1024  # log tail kept from the run's output
    max_output_bytes: int = 32 * MIB  # printing more than this kills the run
    cpus: tuple[int, ...] = ()  # CPU cores the run is pinned to (its worker slot's share)

    def apply(self, use_cuda: bool) -> None:
        pairs = [
            (resource.RLIMIT_CORE, 0),
            (resource.RLIMIT_FSIZE, self.file_bytes),
            (resource.RLIMIT_NOFILE, self.open_files),
        ]
        if self.cpu_seconds is not None:
            pairs.append((resource.RLIMIT_CPU, self.cpu_seconds))
        if self.memory_bytes is not None and not use_cuda:
            pairs.append((resource.RLIMIT_AS, self.memory_bytes))
        for which, value in pairs:
            _, hard = resource.getrlimit(which)
            if hard != resource.RLIM_INFINITY:
                value = min(value, hard)
            # CPU: SIGXCPU at the soft limit names the cause; SIGKILL a little later if ignored.
            ceiling = value + 5 if which == resource.RLIMIT_CPU else value
            if hard != resource.RLIM_INFINITY:
                ceiling = min(ceiling, hard)
            resource.setrlimit(which, (value, ceiling))
