"""Whether a run got the CPU it was given: other processes' load on the run's own cores.

A wall-clock budget buys fewer steps when something else shares the run's cores (on a 2-core
machine two busy processes cut a baseline from 190 steps to 8), so such a run says more about
the machine than about the candidate. The parent reads the busy time of the run's cores from
/proc/stat over the training window; the run's own CPU time over the same window comes on the
channel; the difference is what other processes took: the foreign load. Above
`JobOptions.max_foreign_load` the run is recorded as interfered and never judged. A run that
missed its deadline is measured the same way from its launch to its last message (set-up, a
slow step, the export): starved, it is interfered rather than over budget.

The run's own figure is the candidate's word (it comes from its process): a candidate can only
make itself look starved (and be re-run) or look fine (and be judged on what it trained), so
lying changes no metric; the budget itself is enforced by the parent's clock.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from dataclasses import dataclass

MAX_FOREIGN_LOAD = 0.25  # a quarter of the run's cores busy with other work: not judged
MIN_WINDOW = 0.5  # seconds: /proc/stat ticks (10 ms) make shorter windows meaningless
_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
_BUSY_FIELDS = (0, 1, 2, 5, 6, 7)  # user nice system irq softirq steal (not idle, iowait)


def busy_seconds(cpus: Iterable[int] = ()) -> float | None:
    """CPU seconds the given cores (all when empty) have spent busy since boot; None where
    /proc/stat is not readable."""
    wanted = {f"cpu{c}" for c in cpus}
    total = 0.0
    try:
        with open("/proc/stat") as handle:
            for line in handle:
                name, *fields = line.split()
                if not name.startswith("cpu") or name == "cpu" or (wanted and name not in wanted):
                    continue
                total += sum(int(fields[i]) for i in _BUSY_FIELDS if i < len(fields))
    except (OSError, ValueError):
        return None
    return total / _TICK


def cores_of(cpus: tuple[int, ...]) -> tuple[int, ...]:
    """The cores a run may use: its slot's, else every core this process may use."""
    if cpus:
        return cpus
    return tuple(sorted(os.sched_getaffinity(0))) if hasattr(os, "sched_getaffinity") else \
        tuple(range(os.cpu_count() or 1))


@dataclass(frozen=True)
class Share:
    """The CPU a run got over its training window."""

    cpu_share: float  # own CPU time / (wall x threads given)
    foreign_load: float  # others' CPU time / (wall x cores the run may use)

    def interfered(self, limit: float | None) -> bool:
        return limit is not None and self.foreign_load > limit

    def describe(self, while_it: str = "trained") -> str:
        return (f"other processes used {self.foreign_load:.0%} of the run's cores while it "
                f"{while_it} (its own CPU share {self.cpu_share:.0%})")


def share(wall: float, own_cpu: float, busy: float, cores: int, threads: int) -> Share | None:
    """The share of a window of `wall` seconds in which the run's cores were `busy` CPU seconds
    and the run itself used `own_cpu`; None for a window too short to tell."""
    if wall < MIN_WINDOW or own_cpu < 0 or busy < 0:
        return None
    foreign = max(0.0, busy - own_cpu)
    return Share(cpu_share=min(1.0, own_cpu / (wall * max(1, threads))),
                 foreign_load=min(1.0, foreign / (wall * max(1, cores))))


def machine_busy(cpus: tuple[int, ...] = (), seconds: float = 0.5) -> float | None:
    """The fraction of the cores busy over a short sample (for the warning at `run` start)."""
    cores = cores_of(cpus)
    before = busy_seconds(cores)
    time.sleep(seconds)
    after = busy_seconds(cores)
    if before is None or after is None:
        return None
    return min(1.0, (after - before) / (seconds * len(cores)))
