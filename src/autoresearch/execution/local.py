"""Local executor: a pool of worker slots on this machine, each running sandboxed jobs.

Each slot keeps a fork server (see sandbox/zygote.py) that has imported torch and the task's
harness once, so a seed run starts in milliseconds instead of seconds. Jobs other than harness
runs, or a server that cannot start, fall back to a fresh interpreter per run.
"""

from __future__ import annotations

import logging
import queue
import sys
import threading
from concurrent.futures import Future, ThreadPoolExecutor

from autoresearch.execution.slots import Slot
from autoresearch.sandbox import Job, SeedJob
from autoresearch.sandbox.forkserver import ForkServer, ForkServerError
from autoresearch.sandbox.runner import run_seed, server_key
from autoresearch.storage.records import SeedRun

log = logging.getLogger(__name__)


class LocalExecutor:
    """One thread per slot hands jobs to sandboxed processes; a crashing candidate only ends
    its own process, so the slot goes straight on to the next job."""

    def __init__(self, slots: list[Slot] | None = None, fork_server: bool = True) -> None:
        self.slots = slots or [Slot(0, ())]
        self.fork_server = fork_server and sys.platform == "linux"
        self._free: queue.SimpleQueue[Slot] = queue.SimpleQueue()
        for slot in self.slots:
            self._free.put(slot)
        self._servers: dict[int, ForkServer] = {}
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=len(self.slots),
                                        thread_name_prefix="worker-slot")

    @property
    def workers(self) -> int:
        return len(self.slots)

    def _server(self, slot: Slot, job: SeedJob) -> ForkServer | None:
        key = server_key(job)
        current = self._servers.get(slot.index)
        if current is not None and (current.key != key or not current.alive):
            current.close()
            current = None
        if current is None:
            try:
                current = ForkServer(key)
            except ForkServerError as exc:
                log.warning("fork server unavailable, using a fresh interpreter per run: %s",
                            exc)
                self.fork_server = False
                return None
            self._servers[slot.index] = current
        return current

    def _run(self, job: Job) -> SeedRun:
        slot = self._free.get()
        try:
            pinned = slot.pin(job)
            if self.fork_server and isinstance(pinned, SeedJob):
                server = self._server(slot, pinned)
                if server is not None:
                    try:
                        return run_seed(pinned, server)
                    except ForkServerError as exc:
                        log.warning("fork server failed (%s); this run uses a fresh one", exc)
                        server.close()
                        self._servers.pop(slot.index, None)
            return pinned.run()
        finally:
            self._free.put(slot)

    def submit(self, job: Job) -> Future[SeedRun]:
        return self._pool.submit(self._run, job)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
        for server in self._servers.values():
            server.close()
        self._servers.clear()
