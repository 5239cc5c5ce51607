"""Worker slots, fork servers, Ray, and the loop with several experiments in flight."""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from autoresearch.execution import LocalExecutor, Slot, plan_slots
from autoresearch.execution.hardware import GPU, Hardware
from autoresearch.records import Mode, Status
from autoresearch.sandbox import JobOptions, SeedJob
from autoresearch.search.strategy import Strategy
from autoresearch.tasks import get_task
from tests.test_store import RERUN_SEEDS

from ..conftest import baseline_with, run_cli
from ..test_search import LOW, exp

TASK = get_task("shakespeare")
TINY = baseline_with(N_LAYER=1, N_EMBD=32, BATCH_SIZE=8)


def job(code: str, data, seed: int = 42, budget: float = 1.0, **kw) -> SeedJob:
    return TASK.seed_job(code, seed, data, JobOptions(budget_seconds=budget, grace_seconds=60,
                                                      **kw))


def test_slots_split_cores_and_own_one_gpu_each():
    cpu_only = Hardware(cpus=(0, 1, 2, 3), memory_bytes=1 << 34, gpus=(), mps=False)
    slots = plan_slots(2, cpu_only)
    assert [s.cpus for s in slots] == [(0, 1), (2, 3)] and all(s.gpu is None for s in slots)
    gpus = Hardware(cpus=(0, 1, 2, 3), memory_bytes=1 << 34, mps=False,
                    gpus=(GPU(0, "H100", 80000), GPU(1, "H100", 80000)))
    assert gpus.default_workers == 2
    first, second = plan_slots(2, gpus)
    options = first.apply(JobOptions(budget_seconds=5, device="cuda"))
    assert (options.gpus, options.device, options.threads) == ("0", "cuda:0", 2)
    assert second.apply(JobOptions(budget_seconds=5)).gpus == "1"
    assert first.apply(JobOptions(budget_seconds=5, device="cpu")).gpus is None
    assert plan_slots(3, Hardware(cpus=(0,), memory_bytes=1, gpus=(), mps=False))[2].cpus == (0,)


def test_in_flight_parents_are_not_duplicated():
    history = [exp(0, Status.KEPT, 3.0, mode=Mode.BASELINE), exp(1, Status.KEPT, 2.5),
               exp(2, Status.KEPT, 2.8)]
    strategy = Strategy(LOW)
    busy = frozenset({history[1].id})
    for seed in range(50):
        plan = strategy.plan(history, 6, random.Random(seed), busy=busy)
        assert plan.parent.id != history[1].id
    everything = frozenset(e.id for e in history)
    assert strategy.plan(history, 6, random.Random(0), busy=everything).parent in history
    allowed = Strategy(LOW, duplicate_parents=True)
    picks = {allowed.plan(history, 6, random.Random(s), busy=busy).parent.id for s in range(50)}
    assert history[1].id in picks


def test_fork_server_starts_runs_fast_and_keeps_them_apart(shakespeare_data):
    executor = LocalExecutor([Slot(0, ())], fork_server=True)
    try:
        runs = [executor.submit(job(TINY, shakespeare_data, seed)).result() for seed in (1, 2)]
        assert all(r.ok for r in runs), [r.reason for r in runs]
        assert all("fork-server" in r.sandbox for r in runs)
        assert all(r.startup_seconds < 1.0 for r in runs)
        assert runs[0].metric != runs[1].metric  # the seed is applied after the fork
        nan = "import harness\nharness.log_loss(0, float('nan'))\nharness.evaluate(None, 2)\n"
        assert executor.submit(job(nan, shakespeare_data)).result().failure.value == "divergence"
        crash = "import harness\nraise ValueError('boom')\nharness.evaluate(None, 2)\n"
        crashed = executor.submit(job(crash, shakespeare_data)).result()
        assert crashed.failure.value == "crash" and "boom" in crashed.log_tail
        # The slot survives its candidates crashing.
        assert executor.submit(job(TINY, shakespeare_data, 3)).result().ok
    finally:
        executor.shutdown()


def test_fork_server_and_fresh_interpreter_agree(shakespeare_data):
    """Same seed, same code: the same model either way (the seed is applied after the fork)."""
    forked = LocalExecutor([Slot(0, ())], fork_server=True)
    fresh = LocalExecutor([Slot(0, ())], fork_server=False)
    try:
        code = TINY.replace("while not harness.training_done():",
                            "for _ in range(3):\n    harness.time_left()")
        a = forked.submit(job(code, shakespeare_data, 7, budget=30)).result()
        b = fresh.submit(job(code, shakespeare_data, 7, budget=30)).result()
    finally:
        forked.shutdown()
        fresh.shutdown()
    assert a.ok and b.ok, (a.reason, b.reason)
    assert a.metric == pytest.approx(b.metric, abs=1e-6)


def test_ray_executor_runs_seed_jobs_and_assigns_gpus(shakespeare_data):
    ray = pytest.importorskip("ray")
    from autoresearch.execution.ray import RayExecutor, resources

    executor = RayExecutor(num_cpus=2, num_gpus=2)
    try:
        runs = [executor.submit(job(TINY, shakespeare_data, seed)).result(timeout=300)
                for seed in (1, 2)]
        assert all(r.ok for r in runs), [r.reason for r in runs]
        # Each Ray worker process keeps a fork server between its tasks, as a local slot does.
        assert all("fork-server" in r.sandbox for r in runs)
        gpu_job = job(TINY, shakespeare_data, device="cuda")
        assert resources(gpu_job) == {"num_cpus": 1.0, "num_gpus": 1.0}
        assert resources(job(TINY, shakespeare_data)) == {"num_cpus": 1.0, "num_gpus": 0}
        # A job left to use all cores gets one core per task (2 CPUs, 2 tasks at once), not a
        # thread pool the size of the machine in each task.
        assert executor._share(job(TINY, shakespeare_data)).options.threads == 1

        @ray.remote(num_gpus=1, max_retries=0)
        def visible() -> str:
            return os.environ.get("CUDA_VISIBLE_DEVICES", "")

        assigned = sorted(ray.get([visible.remote(), visible.remote()]))
        assert assigned == ["0", "1"]
    finally:
        executor.shutdown()


def _finished(path) -> list[tuple]:
    if not path.exists():
        return []
    db = sqlite3.connect(path)
    try:
        return db.execute("SELECT id, number, status, metric_mean FROM experiments WHERE status "
                          "NOT IN ('running', 'pending') ORDER BY id").fetchall()
    except sqlite3.OperationalError:
        return []
    finally:
        db.close()


@pytest.mark.slow
def test_parallel_run_survives_kill_9_and_resumes(cli_env, tmp_path):
    store = tmp_path / "store.db"
    args = [sys.executable, "-m", "autoresearch", "run", "--task", "shakespeare",
            "--train-seconds", "1", "--max-experiments", "5", "--workers", "2",
            "--grace", "60"]
    proc = subprocess.Popen(args, env=cli_env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 400
    while len(_finished(store)) < 3 and time.time() < deadline:
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    before = _finished(store)
    assert len(before) >= 3
    resumed = run_cli(["run", "--task", "shakespeare", "--train-seconds", "1",
                       "--max-experiments", "5", "--workers", "2", "--grace", "60"], cli_env)
    assert resumed.returncode == 0, resumed.stderr
    after = _finished(store)
    assert set(before) <= set(after)  # nothing finished was lost or re-written
    assert len(after) == 6
    db = sqlite3.connect(store)
    assert db.execute(RERUN_SEEDS).fetchall() == []  # no scored seed was run again
    knobs = [r[0] for r in db.execute("SELECT knobs_json FROM experiments WHERE mode != "
                                      "'baseline' AND description != 'failed proposal'")]
    assert len(knobs) == len(set(knobs))  # a pending experiment counts for dedup
    status = run_cli(["status", "--task", "shakespeare"], cli_env)
    assert status.returncode == 0
    exported = tmp_path / "x.json"
    run_cli(["export", "--task", "shakespeare", "-o", str(exported)], cli_env)
    rows = json.loads(exported.read_text())["experiments"]
    assert len(rows) == 6
