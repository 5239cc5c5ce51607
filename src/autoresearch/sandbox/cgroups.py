"""Per-run cgroups (v1 or v2, root only): a memory ceiling and a process count ceiling.

RLIMIT_NPROC does not bind root and RLIMIT_AS breaks CUDA, so these are the limits that hold
for every kind of run. The run's processes join the group before exec (see `join`), and every
process still in it when the run ends is killed.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

ROOT = Path("/sys/fs/cgroup")
PARENT = "autoresearch"


@dataclass(frozen=True)
class RunCgroup:
    version: int
    dirs: tuple[Path, ...]

    def join(self) -> None:
        """Called in the child between fork and exec."""
        pid = str(os.getpid())
        for d in self.dirs:
            with open(d / "cgroup.procs", "w") as handle:
                handle.write(pid)

    def oom_kills(self) -> int:
        """How many processes of the group the kernel's OOM killer has killed so far."""
        for d in self.dirs:
            for name in ("memory.events", "memory.oom_control"):
                path = d / name
                if path.exists():
                    for line in path.read_text().splitlines():
                        key, _, value = line.partition(" ")
                        if key == "oom_kill":
                            return int(value.strip() or 0)
        return 0

    def peak_bytes(self) -> int | None:
        for d in self.dirs:
            for name in ("memory.max_usage_in_bytes", "memory.peak"):
                with contextlib.suppress(OSError, ValueError):
                    return int((d / name).read_text())
        return None

    def kill_all(self) -> None:
        for _ in range(50):
            pids = set()
            for d in self.dirs:
                with contextlib.suppress(OSError):
                    pids.update(int(p) for p in (d / "cgroup.procs").read_text().split())
            if not pids:
                return
            for pid in pids:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.02)

    def remove(self) -> None:
        self.kill_all()
        for d in self.dirs:
            for _ in range(50):
                try:
                    d.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.02)


@dataclass(frozen=True)
class CgroupManager:
    version: int
    parents: tuple[Path, ...]  # v1: one per controller; v2: the unified parent

    @classmethod
    def detect(cls) -> CgroupManager | None:
        if os.geteuid() != 0:
            return None
        unified = ROOT / "cgroup.controllers"
        candidates: list[tuple[int, tuple[Path, ...]]] = []
        if unified.exists():
            candidates.append((2, (ROOT / PARENT,)))
        if (ROOT / "memory").is_dir() and (ROOT / "pids").is_dir():
            candidates.append((1, (ROOT / "memory" / PARENT, ROOT / "pids" / PARENT)))
        for version, parents in candidates:
            manager = cls(version, parents)
            if manager._usable():
                return manager
        return None

    def _usable(self) -> bool:
        try:
            probe = self.create(memory_bytes=1 << 30, pids=64)
        except OSError:
            return False
        probe.remove()
        return True

    def create(self, memory_bytes: int | None, pids: int | None) -> RunCgroup:
        name = f"run-{uuid.uuid4().hex[:12]}"
        dirs = []
        for parent in self.parents:
            parent.mkdir(exist_ok=True)
            if self.version == 2:
                with contextlib.suppress(OSError):
                    (parent / "cgroup.subtree_control").write_text("+memory +pids")
            d = parent / name
            d.mkdir()
            dirs.append(d)
        group = RunCgroup(self.version, tuple(dirs))
        try:
            for d in dirs:
                if memory_bytes is not None:
                    for key in ("memory.limit_in_bytes", "memory.max"):
                        if (d / key).exists():
                            (d / key).write_text(str(memory_bytes))
                    if (d / "memory.swap.max").exists():
                        (d / "memory.swap.max").write_text("0")
                if pids is not None and (d / "pids.max").exists():
                    (d / "pids.max").write_text(str(pids))
        except OSError:
            group.remove()
            raise
        return group
