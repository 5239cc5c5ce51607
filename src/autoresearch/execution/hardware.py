"""What this machine offers: cores, memory, GPUs (read without initialising CUDA here)."""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass


@dataclass(frozen=True)
class GPU:
    index: int
    name: str
    memory_mb: int


@dataclass(frozen=True)
class Hardware:
    cpus: tuple[int, ...]  # cores this process may use
    memory_bytes: int
    gpus: tuple[GPU, ...]
    mps: bool

    @property
    def default_workers(self) -> int:
        return max(1, len(self.gpus))


def _gpus() -> tuple[GPU, ...]:
    """From nvidia-smi: asking torch would initialise CUDA in the parent, which forbids fork."""
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return ()
    try:
        out = subprocess.run([smi, "--query-gpu=index,name,memory.total",
                              "--format=csv,noheader,nounits"], capture_output=True, text=True,
                             timeout=20, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return ()
    gpus = []
    for line in out.strip().splitlines():
        index, name, memory = (part.strip() for part in line.split(","))
        gpus.append(GPU(int(index), name, int(float(memory))))
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None:
        allowed = {v.strip() for v in visible.split(",") if v.strip()}
        gpus = [g for g in gpus if str(g.index) in allowed]
    return tuple(gpus)


def _mps() -> bool:
    import platform

    return platform.system() == "Darwin" and platform.machine() == "arm64"


def detect() -> Hardware:
    cpus = tuple(sorted(os.sched_getaffinity(0))) if hasattr(os, "sched_getaffinity") else \
        tuple(range(os.cpu_count() or 1))
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return Hardware(cpus=cpus, memory_bytes=memory, gpus=_gpus(), mps=_mps())
