"""Local executor: a pool of worker slots on this machine, each running sandboxed jobs.

Each slot keeps a fork server (see sandbox/zygote.py) that has imported torch and the task's
harness once, so a seed run starts in milliseconds instead of seconds. Jobs other than harness
runs, or a server that cannot start, fall back to a fresh interpreter per run.
"""

from __future__ import annotations

import queue
from concurrent.futures import Future, ThreadPoolExecutor

from autoresearch.execution.slots import Slot
from autoresearch.execution.warm import WarmRunner
from autoresearch.records import SeedRun
from autoresearch.sandbox import Job


class LocalExecutor:
    """One thread per slot hands jobs to sandboxed processes; a crashing candidate only ends
    its own process, so the slot goes straight on to the next job."""

    def __init__(self, slots: list[Slot] | None = None, fork_server: bool = True) -> None:
        self.slots = slots or [Slot(0, ())]
        self._free: queue.SimpleQueue[Slot] = queue.SimpleQueue()
        for slot in self.slots:
            self._free.put(slot)
        self._runners = {slot.index: WarmRunner(fork_server) for slot in self.slots}
        self._pool = ThreadPoolExecutor(max_workers=len(self.slots),
                                        thread_name_prefix="worker-slot")

    @property
    def workers(self) -> int:
        return len(self.slots)

    def _run(self, job: Job) -> SeedRun:
        slot = self._free.get()
        try:
            return self._runners[slot.index].run(slot.pin(job))
        finally:
            self._free.put(slot)

    def submit(self, job: Job) -> Future[SeedRun]:
        return self._pool.submit(self._run, job)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
        for runner in self._runners.values():
            runner.close()
