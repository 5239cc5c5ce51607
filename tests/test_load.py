"""A seed run starved by other processes on its cores is recorded as interfered, not judged."""

from __future__ import annotations

import json
import multiprocessing
import os
from dataclasses import replace

import pytest

from autoresearch.records import FailureKind, Status
from autoresearch.sandbox import JobOptions, Limits
from autoresearch.sandbox.load import busy_seconds, machine_busy, share
from autoresearch.sandbox.runner import run_seed
from autoresearch.tasks import get_task

from .conftest import baseline_with, run_cli


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


def _hog(core: int, stop: multiprocessing.synchronize.Event) -> None:
    os.sched_setaffinity(0, {core})
    while not stop.is_set():
        sum(range(10_000))


@pytest.mark.parametrize("defence", [True, False])
def test_a_run_sharing_its_core_with_a_hog_is_not_judged(shakespeare_data, defence) -> None:
    task = get_task("shakespeare")
    options = JobOptions(budget_seconds=2.0, grace_seconds=60, threads=1,
                         limits=replace(Limits(), cpus=(0,)),
                         max_foreign_load=0.2 if defence else None)
    code = baseline_with(N_LAYER=1, N_EMBD=32)
    stop = multiprocessing.Event()
    hogs = [multiprocessing.Process(target=_hog, args=(0, stop), daemon=True) for _ in range(2)]
    for hog in hogs:
        hog.start()
    try:
        run = run_seed(task.seed_job(code, 42, shakespeare_data, options))
    finally:
        stop.set()
        for hog in hogs:
            hog.join(5)
    assert run.cpu_share is not None and run.extra["foreign_load"] > 0.3, run
    if defence:
        assert run.failure is FailureKind.INTERFERED and run.metric is None
        assert FailureKind.INTERFERED.status is Status.INTERFERED
        assert "other processes used" in run.reason and "not judged" in run.reason
    else:  # the same starved run, scored as if nothing happened: what the defence prevents
        assert run.ok and run.metric is not None


def test_eval_says_the_machine_starved_the_run_and_exits_7(cli_env, tmp_path) -> None:
    candidate = tmp_path / "small.py"
    candidate.write_text(baseline_with(N_LAYER=1, N_EMBD=32))
    stop = multiprocessing.Event()
    cores = sorted(os.sched_getaffinity(0))
    hogs = [multiprocessing.Process(target=_hog, args=(core, stop), daemon=True)
            for core in cores for _ in range(2)]
    for hog in hogs:
        hog.start()
    try:
        out = run_cli(["eval", "--task", "shakespeare", str(candidate), "--json",
                       "--train-seconds", "2", "--seeds", "42", "--max-foreign-load", "0.2"],
                      cli_env)
    finally:
        stop.set()
        for hog in hogs:
            hog.join(5)
    assert out.returncode == 7, (out.stdout, out.stderr)
    result = json.loads(out.stdout)
    assert result["status"] == "interfered" and result["failure"] == "interfered"
    assert result["mean"] is None and "not judged" in result["reason"]
