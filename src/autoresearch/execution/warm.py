"""A warm runner: one fork server and one evaluator kept between jobs, with a fresh
interpreter as the fallback for runs.

Used per slot by the local executor and per worker process by the Ray executor, so both start
seed runs in milliseconds instead of paying for a new interpreter and `import torch` each time,
and score them without reloading the sealed splits.
"""

from __future__ import annotations

import logging
import sys

from autoresearch.records import SeedRun
from autoresearch.sandbox import Job, SeedJob
from autoresearch.sandbox.evaluator import Evaluator
from autoresearch.sandbox.forkserver import ForkServer, ForkServerError
from autoresearch.sandbox.runner import evaluator_key, run_seed, server_key

log = logging.getLogger(__name__)


class WarmRunner:
    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled and sys.platform == "linux"
        self._server: ForkServer | None = None
        self._evaluator: Evaluator | None = None

    def _scorer(self, job: SeedJob) -> Evaluator:
        key = evaluator_key(job)
        if self._evaluator is not None and self._evaluator.key != key:
            self._evaluator.close()
            self._evaluator = None
        if self._evaluator is None:
            self._evaluator = Evaluator(key)
        return self._evaluator

    def _current(self, job: SeedJob) -> ForkServer | None:
        key = server_key(job)
        if self._server is not None and (self._server.key != key or not self._server.alive):
            self._close_server()  # started for another harness, data or limits
        if self._server is None:
            try:
                self._server = ForkServer(key)
            except ForkServerError as exc:
                log.warning("fork server unavailable, using a fresh interpreter per run: %s",
                            exc)
                self.enabled = False
        return self._server

    def run(self, job: Job) -> SeedRun:
        if not isinstance(job, SeedJob):
            return job.run()
        server = self._current(job) if self.enabled else None
        if server is not None:
            try:
                return run_seed(job, server, self._scorer(job))
            except ForkServerError as exc:
                log.warning("fork server failed (%s); this run uses a fresh one", exc)
                self._close_server()
        return run_seed(job, None, self._scorer(job))

    def _close_server(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None

    def close(self) -> None:
        self._close_server()
        if self._evaluator is not None:
            self._evaluator.close()
            self._evaluator = None
