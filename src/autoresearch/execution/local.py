"""Local executor: seed runs as sandboxed subprocesses on this machine."""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor

from autoresearch.sandbox import Job
from autoresearch.storage.records import SeedRun


class LocalExecutor:
    """A pool of worker slots; each slot runs one sandboxed subprocess at a time."""

    def __init__(self, workers: int = 1) -> None:
        self.workers = workers
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="seed-run")

    def submit(self, job: Job) -> Future[SeedRun]:
        return self._pool.submit(job.run)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
