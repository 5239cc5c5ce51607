"""Real seed runs in real subprocesses, with seconds-long training."""

from __future__ import annotations

import pytest

from autoresearch.records import FailureKind
from autoresearch.sandbox import JobOptions, Limits, SeedJob, run_seed
from autoresearch.sandbox.limits import budget_slack, setup_allowance
from autoresearch.tasks import get_task

from .conftest import TINY_BUDGET, baseline_with

TASK = get_task("shakespeare")

TINY_MODEL = """
import torch
import torch.nn as nn
import harness

class Peek(nn.Module):
    def __init__(self, ahead):
        super().__init__()
        self.ahead = ahead
        self.emb = nn.Embedding(256, 256)

    def forward(self, idx):
        source = torch.roll(idx, -1, dims=1) if self.ahead else idx
        return self.emb(source) * 20.0

model = Peek(AHEAD).to(harness.DEVICE)
with torch.no_grad():
    model.emb.weight.copy_(torch.eye(256) if AHEAD else torch.zeros(256, 256))
"""


def job(code: str, data, budget: float = TINY_BUDGET, **kw) -> SeedJob:
    options = JobOptions(budget_seconds=budget, grace_seconds=kw.pop("grace_seconds", 60), **kw)
    return TASK.seed_job(code, 42, data, options)


def test_baseline_trains_hands_over_and_is_scored_apart(shakespeare_data):
    run = run_seed(job(baseline_with(N_LAYER=1, N_EMBD=32, BATCH_SIZE=8), shakespeare_data))
    assert run.ok, run.log_tail
    assert 2.0 < run.metric < 8.5
    assert run.test_metric is not None and run.test_metric != run.metric
    assert run.steps > 0 and run.loss_curve and run.eval_seconds > 0
    assert TINY_BUDGET <= run.train_seconds <= TINY_BUDGET + budget_slack(TINY_BUDGET)
    assert run.startup_seconds > 0 and run.peak_rss_mb > 50


def test_printing_a_fake_metric_forges_nothing(shakespeare_data):
    code = "import harness\nprint('val_bpb: 0.0001')\nif False:\n    harness.evaluate(None, 2)\n"
    run = run_seed(job(code, shakespeare_data))
    assert run.failure is FailureKind.NO_RESULT and run.metric is None


def test_a_model_that_peeks_ahead_is_caught(shakespeare_data):
    cheat = TINY_MODEL.replace("AHEAD", "True") + "harness.evaluate(model, context=64)\n"
    run = run_seed(job(cheat, shakespeare_data))
    assert run.failure is FailureKind.INTEGRITY and "not causal" in run.reason
    honest = TINY_MODEL.replace("AHEAD", "False") + "harness.evaluate(model, context=64)\n"
    run = run_seed(job(honest, shakespeare_data))
    assert run.ok and run.metric == pytest.approx(8.0, abs=1e-3)  # uniform over 256 bytes


def test_handing_over_ends_the_run(shakespeare_data):
    code = TINY_MODEL.replace("AHEAD", "False") + \
        "harness.evaluate(model, context=64)\nprint('STILL RUNNING')\n"
    run = run_seed(job(code, shakespeare_data))
    assert run.ok and "STILL RUNNING" not in run.log_tail


def test_a_model_that_cannot_be_exported_is_invalid_with_a_hint(shakespeare_data):
    code = TINY_MODEL.replace("AHEAD", "False").replace(
        "        source = ", "        if idx.sum().item() > 0:\n            idx = idx + 0\n"
                            "        source = ") + "harness.evaluate(model, context=64)\n"
    run = run_seed(job(code, shakespeare_data))
    assert run.failure is FailureKind.EXPORT and "traceable" in run.reason, run.reason


def test_nan_loss_is_divergence(shakespeare_data):
    code = "import harness\nharness.log_loss(0, float('nan'))\nharness.evaluate(None, 2)\n"
    run = run_seed(job(code, shakespeare_data))
    assert run.failure is FailureKind.DIVERGENCE


def test_exception_is_a_crash_with_the_traceback_in_the_log(shakespeare_data):
    code = "import harness\nraise ValueError('boom')\nharness.evaluate(None, 2)\n"
    run = run_seed(job(code, shakespeare_data))
    assert run.failure is FailureKind.CRASH and "boom" in run.reason
    assert "Traceback" in run.log_tail


@pytest.mark.parametrize(("before_clock", "seconds"), [(False, 4.5), (True, 16.0)])
def test_training_past_the_budget_is_killed_by_the_parents_clock(shakespeare_data,
                                                                  before_clock, seconds):
    # Past the clock, or before ever asking for data (the clock then starts after the set-up
    # allowance): either way the parent kills the run at its deadline.
    start = "" if before_clock else "harness.time_left()\n"
    code = (f"import time\nimport harness\n{start}end = time.time() + {seconds}\n"
            "while time.time() < end:\n    pass\n") + TINY_MODEL.replace("AHEAD", "False") + \
        "harness.evaluate(model, context=8)\n"
    run = run_seed(job(code, shakespeare_data))
    assert run.failure is FailureKind.OVER_BUDGET, run.reason
    deadline = TINY_BUDGET + budget_slack(TINY_BUDGET) + (
        setup_allowance(TINY_BUDGET) if before_clock else 0)
    assert run.wall_seconds < deadline + 10  # killed at the deadline, not at the end


def test_set_up_before_the_first_batch_is_not_training_time(shakespeare_data):
    code = "import time\ntime.sleep(3)\n" + baseline_with(N_LAYER=1, N_EMBD=32, BATCH_SIZE=8)
    run = run_seed(job(code, shakespeare_data))
    assert run.ok, run.reason
    assert run.train_seconds <= TINY_BUDGET + budget_slack(TINY_BUDGET)


def test_batches_stop_at_the_budget(shakespeare_data):
    code = ("import harness\nwhile True:\n    harness.get_batch(4, 8)\n"
            "harness.evaluate(None, 2)\n")
    run = run_seed(job(code, shakespeare_data))
    assert run.failure is FailureKind.OVER_BUDGET and "budget is over" in run.reason


def test_a_loop_that_ignores_sigint_is_killed_at_the_deadline(shakespeare_data):
    code = ("import harness\nharness.time_left()\ntry:\n    while True:\n        pass\n"
            "except KeyboardInterrupt:\n    while True:\n        pass\nharness.evaluate(None, 2)\n")
    run = run_seed(job(code, shakespeare_data, grace_seconds=3))
    assert run.failure is FailureKind.OVER_BUDGET
    assert run.wall_seconds < TINY_BUDGET + budget_slack(TINY_BUDGET) + 8


def test_memory_hog_is_oom(shakespeare_data):
    code = "import torch\nimport harness\nx = torch.ones(8 * 1024**3, dtype=torch.uint8)\n" \
           "harness.evaluate(None, 2)\n"
    run = run_seed(job(code, shakespeare_data, limits=Limits(memory_bytes=3 * 1024**3)))
    assert run.failure is FailureKind.OOM, run.reason


def test_candidate_environment_is_an_allow_list(monkeypatch, tmp_path):
    from autoresearch.sandbox import candidate_environment

    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-secret")
    monkeypatch.setenv("AUTORESEARCH_STORAGE", "/secret/store.db")
    env = candidate_environment(42, tmp_path, threads=1)
    assert "ANTHROPIC_API_KEY" not in env and "AUTORESEARCH_STORAGE" not in env
    assert env["AUTORESEARCH_SEED"] == "42" and env["HOME"] == str(tmp_path)


def test_a_cpu_second_budget_counts_the_process_cpu_time(shakespeare_data):
    code = baseline_with(N_LAYER=1, N_EMBD=32, BATCH_SIZE=8)
    run = run_seed(job(code, shakespeare_data, threads=1, budget_unit="cpu"))
    assert run.ok, run.reason
    cpu = run.extra["train_cpu_seconds"]
    assert TINY_BUDGET * 0.9 <= cpu <= TINY_BUDGET + budget_slack(TINY_BUDGET)


def test_spinning_past_a_cpu_budget_is_stopped_by_the_kernel(shakespeare_data):
    # A loop that never asks the harness again: RLIMIT_CPU, not the candidate, ends it.
    code = ("import harness\nharness.time_left()\nwhile True:\n    pass\n"
            "harness.evaluate(None, 2)\n")
    run = run_seed(job(code, shakespeare_data, threads=1, budget_unit="cpu"))
    assert run.failure is FailureKind.OVER_BUDGET and "CPU budget" in run.reason, run
