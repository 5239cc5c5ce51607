"""Ray executor: each seed run is a Ray task wrapping the same sandboxed runner.

Ray core only (no Ray Tune). Tasks never retry (`max_retries=0`): a seed run that died must be
recorded as such, not silently re-run. Results stream back to the driver, which alone writes
the store. A task that uses a GPU declares `num_gpus=1`, so Ray pins it to one device
(CUDA_VISIBLE_DEVICES), which the sandbox passes on to the candidate. Each Ray worker process
keeps a fork server between its tasks, as a local slot does.
"""

from __future__ import annotations

import dataclasses
from concurrent.futures import Future
from typing import Any

from autoresearch.errors import UsageError
from autoresearch.execution.warm import WarmRunner
from autoresearch.records import SeedRun
from autoresearch.sandbox import Job, JobOptions

_runner: WarmRunner | None = None  # one per Ray worker process, kept between its tasks


def _run(job: Job, fork_server: bool) -> SeedRun:
    global _runner
    import ray

    options = getattr(job, "options", None)
    if isinstance(options, JobOptions) and options.uses_gpu and (ids := ray.get_gpu_ids()):
        # A reused worker may hold another GPU this time: pin the run (and so the fork server's
        # key) to what Ray assigned to this task.
        gpus = ",".join(str(i) for i in ids)
        job = dataclasses.replace(job, options=dataclasses.replace(  # type: ignore[type-var]
            options, gpus=gpus, device="cuda:0"))
    if _runner is None:
        _runner = WarmRunner(fork_server)
    return _runner.run(job)


def resources(job: Job) -> dict[str, float]:
    options = getattr(job, "options", None)
    if not isinstance(options, JobOptions):
        return {"num_cpus": 1, "num_gpus": 0}
    return {"num_cpus": float(options.threads or 1), "num_gpus": 1.0 if options.uses_gpu else 0}


class RayExecutor:
    def __init__(self, address: str | None = None, num_cpus: int | None = None,
                 num_gpus: int | None = None, fork_server: bool = True) -> None:
        try:
            import ray
        except ImportError:
            raise UsageError("--executor ray needs Ray: pip install 'autoresearch[ray]'") from None
        self._ray = ray
        self._owns = not ray.is_initialized()
        if self._owns:
            kwargs: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False,
                                      "configure_logging": False}
            if address:
                kwargs["address"] = address
            else:
                kwargs.update(num_cpus=num_cpus, num_gpus=num_gpus)
            try:
                ray.init(**kwargs)
            except ConnectionError as exc:
                raise UsageError(f"cannot reach the Ray cluster at {address!r} ({exc}); start "
                                 "one with `ray start --head` or pass --ray-address") from None
        self._task = ray.remote(_run)
        self._fork_server = fork_server

    @property
    def workers(self) -> int:
        """Jobs the cluster can run at once: its GPUs if it has any, else its CPUs."""
        available = self._ray.cluster_resources()
        return max(1, int(available.get("GPU", 0)) or int(available.get("CPU", 1)))

    def _share(self, job: Job) -> Job:
        """A job left to use all cores gets its share of the cluster instead: every task that
        runs at once sizing its thread pool to the whole machine makes spinning OpenMP threads
        fight over the cores (measured: a 1 s run took 14 s with two at once on two cores)."""
        options = getattr(job, "options", None)
        if not isinstance(options, JobOptions) or options.threads:
            return job
        available = self._ray.cluster_resources()
        cpus, gpus = int(available.get("CPU", 1)), int(available.get("GPU", 0))
        threads = max(1, cpus // gpus) if options.uses_gpu and gpus else 1
        return dataclasses.replace(job, options=dataclasses.replace(  # type: ignore[type-var]
            options, threads=threads))

    def submit(self, job: Job) -> Future[SeedRun]:
        job = self._share(job)
        ref = self._task.options(max_retries=0, **resources(job)).remote(job, self._fork_server)
        return ref.future()

    def shutdown(self) -> None:
        if self._owns and self._ray.is_initialized():
            self._ray.shutdown()
