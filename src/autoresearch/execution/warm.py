"""A warm runner: one fork server kept between jobs, with a fresh interpreter as the fallback.

Used per slot by the local executor and per worker process by the Ray executor, so both start
seed runs in milliseconds instead of paying for a new interpreter and `import torch` each time.
"""

from __future__ import annotations

import logging
import sys

from autoresearch.records import SeedRun
from autoresearch.sandbox import Job, SeedJob
from autoresearch.sandbox.forkserver import ForkServer, ForkServerError
from autoresearch.sandbox.runner import run_seed, server_key

log = logging.getLogger(__name__)


class WarmRunner:
    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled and sys.platform == "linux"
        self._server: ForkServer | None = None

    def _current(self, job: SeedJob) -> ForkServer | None:
        key = server_key(job)
        if self._server is not None and (self._server.key != key or not self._server.alive):
            self.close()  # started for another harness, data or limits: start a matching one
        if self._server is None:
            try:
                self._server = ForkServer(key)
            except ForkServerError as exc:
                log.warning("fork server unavailable, using a fresh interpreter per run: %s",
                            exc)
                self.enabled = False
        return self._server

    def run(self, job: Job) -> SeedRun:
        if self.enabled and isinstance(job, SeedJob):
            server = self._current(job)
            if server is not None:
                try:
                    return run_seed(job, server)
                except ForkServerError as exc:
                    log.warning("fork server failed (%s); this run uses a fresh one", exc)
                    self.close()
        return job.run()

    def close(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
