"""A seed run starved by other processes on its cores is recorded as interfered, not judged."""

from __future__ import annotations

import contextlib
import fcntl
import json
import multiprocessing
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace

import pytest

from autoresearch.records import FailureKind, SeedRun, Status
from autoresearch.sandbox import JobOptions, Limits, SeedJob
from autoresearch.sandbox.forkserver import ForkServer
from autoresearch.sandbox.load import busy_seconds, machine_busy, share
from autoresearch.sandbox.runner import run_seed, server_key
from autoresearch.tasks import get_task

from .conftest import baseline_with, run_cli, shared_folder


def test_share_splits_own_and_foreign_cpu() -> None:
    alone = share(wall=10.0, own_cpu=19.0, busy=19.5, cores=2, threads=2)
    assert alone is not None and alone.cpu_share == pytest.approx(0.95)
    assert alone.foreign_load == pytest.approx(0.025) and not alone.interfered(0.25)
    crowded = share(wall=10.0, own_cpu=8.0, busy=19.0, cores=2, threads=2)
    assert crowded is not None and crowded.foreign_load == pytest.approx(0.55)
    assert crowded.interfered(0.25) and not crowded.interfered(None)
    assert "55%" in crowded.describe()
    assert share(wall=0.1, own_cpu=0.1, busy=0.2, cores=1, threads=1) is None  # too short


def test_busy_seconds_grow_with_work() -> None:
    before = busy_seconds((0,))
    assert before is not None
    os.sched_setaffinity(0, {0})
    try:
        deadline = __import__("time").process_time() + 0.3
        while __import__("time").process_time() < deadline:
            pass
    finally:
        os.sched_setaffinity(0, range(os.cpu_count() or 1))
    after = busy_seconds((0,))
    assert after is not None and after - before >= 0.25
    assert 0.0 <= (machine_busy(seconds=0.2) or 0.0) <= 1.0


HogsOn = Callable[[Iterable[int], int], contextlib.AbstractContextManager[None]]


def _hog(core: int, stop: multiprocessing.synchronize.Event) -> None:
    # Its own session, like a run: with autogroup scheduling the kernel shares a core between
    # sessions first, so hogs left in the test's session would share one slice of it.
    os.setsid()
    os.sched_setaffinity(0, {core})
    while not stop.is_set():
        sum(range(10_000))


@pytest.fixture
def hogs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HogsOn]:
    """Busy processes pinned to given cores, `each` per core, while a block runs; one test
    with hogs at a time across xdist workers (two at once starve each other's runs)."""
    @contextlib.contextmanager
    def on(cores: Iterable[int], each: int) -> Iterator[None]:
        stop = multiprocessing.Event()
        started = [multiprocessing.Process(target=_hog, args=(core, stop), daemon=True)
                   for core in cores for _ in range(each)]
        for hog in started:
            hog.start()
        try:
            yield
        finally:
            stop.set()
            for hog in started:
                hog.join(5)

    with (shared_folder(tmp_path_factory, "hogs") / "lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield on


def _run_warm(job: SeedJob, busy: contextlib.AbstractContextManager[None]) -> SeedRun:
    """The job forked by a fork server that was started (torch imported, exporter warmed)
    before the machine got busy, as the loop's runs are: only the run itself is starved."""
    server = ForkServer(server_key(job))
    try:
        with busy:
            return run_seed(job, server)
    finally:
        server.close()


def _options(defence: bool) -> JobOptions:
    return JobOptions(budget_seconds=2.0, grace_seconds=60, threads=1,
                      limits=replace(Limits(), cpus=(0,)),
                      max_foreign_load=0.2 if defence else None)


@pytest.mark.parametrize("defence", [True, False])
def test_a_run_sharing_its_core_with_a_hog_is_not_judged(shakespeare_data, hogs,
                                                         defence) -> None:
    code = baseline_with(N_LAYER=1, N_EMBD=32)
    job = get_task("shakespeare").seed_job(code, 42, shakespeare_data, _options(defence))
    run = _run_warm(job, hogs(cores=(0,), each=1))  # half its core
    assert run.cpu_share is not None and run.extra["foreign_load"] > 0.3, run
    if defence:
        assert run.failure is FailureKind.INTERFERED and run.metric is None
        assert FailureKind.INTERFERED.status is Status.INTERFERED
        assert "other processes used" in run.reason and "not judged" in run.reason
    else:  # the same starved run, scored as if nothing happened: what the defence prevents
        assert run.ok and run.metric is not None


# A model whose export costs a CPU second (its forward, traced once, is slow then; a large
# model's export is slow too): quiet, 2 s of training and the export fit in the deadline
# (2 s budget + 3 s slack); on a fifth of a core the export alone takes 5 s.
SLOW_EXPORT = """
import time
import torch
import harness


class Model(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.embed, self.head = torch.nn.Embedding(256, 8), torch.nn.Linear(8, 256)
        self.exporting = False

    def forward(self, idx):
        if self.exporting:
            end = time.process_time() + 1.0
            while time.process_time() < end:
                pass
        return self.head(self.embed(idx))


model = Model()
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
step = 0
while not harness.training_done():
    x, y = harness.get_batch(4, 8)
    loss = torch.nn.functional.cross_entropy(model(x).flatten(0, 1), y.flatten())
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    harness.log_loss(step, loss.item())
    step += 1
model.exporting = True
harness.evaluate(model, 8)
"""


@pytest.mark.parametrize("defence", [True, False])
def test_a_run_starved_past_its_deadline_is_not_judged_over_budget(shakespeare_data, hogs,
                                                                   defence) -> None:
    job = get_task("shakespeare").seed_job(SLOW_EXPORT, 42, shakespeare_data,
                                           _options(defence))
    run = _run_warm(job, hogs(cores=(0,), each=4))
    if defence:  # its CPU marks (launch, start, export) show others took its core
        assert run.failure is FailureKind.INTERFERED, run
        assert run.extra["foreign_load"] > 0.3 and run.cpu_share is not None
        assert "no model handed over" in run.reason and "while it ran" in run.reason
        assert "not judged" in run.reason
    else:  # what the defence prevents: the machine's load judged the candidate invalid
        assert run.failure is FailureKind.OVER_BUDGET, run


def test_the_slow_export_fits_its_deadline_on_a_quiet_machine(shakespeare_data, hogs) -> None:
    """The control: the candidate above is valid when no hog runs (on any core it may use)."""
    options = replace(_options(False), limits=Limits())
    job = get_task("shakespeare").seed_job(SLOW_EXPORT, 42, shakespeare_data, options)
    run = _run_warm(job, hogs(cores=(), each=0))
    assert run.ok and run.metric is not None, run


def test_eval_says_the_machine_starved_the_run_and_exits_7(cli_env, tmp_path, hogs) -> None:
    candidate = tmp_path / "small.py"
    candidate.write_text(baseline_with(N_LAYER=1, N_EMBD=32))
    # One core taken (the run may use both): a busy machine, not one that starves the rest
    # of the test suite too.
    with hogs(cores=(0,), each=3):
        out = run_cli(["eval", "--task", "shakespeare", str(candidate), "--json",
                       "--train-seconds", "2", "--seeds", "42", "--max-foreign-load", "0.2"],
                      cli_env)
    assert out.returncode == 7, (out.stdout, out.stderr)
    result = json.loads(out.stdout)
    assert result["status"] == "interfered" and result["failure"] == "interfered"
    assert result["mean"] is None and "not judged" in result["reason"]
