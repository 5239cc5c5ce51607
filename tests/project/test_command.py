"""Seed runs of a user's command in real subprocesses (about a second each)."""

from __future__ import annotations

import json

import pytest

from autoresearch.bundle import pack
from autoresearch.records import FailureKind
from autoresearch.sandbox import JobOptions
from autoresearch.sandbox.command import CommandJob
from autoresearch.sandbox.isolation import detect
from autoresearch.sandbox.summary import read_summary
from autoresearch.sandbox.workspace import prepare_workspace

from .conftest import TRAIN, make_project

PROBE = '''import os
import pathlib

from prepare import BUDGET, SEED, evaluate
import numpy as np

print(f"seed: {SEED}")
print(f"budget: {BUDGET}")
print(f"has_secret: {int('ANTHROPIC_API_KEY' in os.environ)}")
print(f"has_git: {int(pathlib.Path('.git').exists())}")
print(f"has_store: {int(pathlib.Path('autoresearch.db').exists())}")
print(f"prepare_writable_bit: {int(os.stat('prepare.py').st_mode & 0o222 != 0)}")
print(f"val_loss: {evaluate(np.zeros(8)):.6f}")
'''


def job(project, code: str, budget: float = 1.0, grace: float = 20.0, **kw) -> CommandJob:
    kw.setdefault("command", "python train.py")
    kw.setdefault("edit", ("train.py",))
    return CommandJob(code=code, seed=kw.pop("seed", 42), project=project, metric="val_loss",
                      options=JobOptions(budget_seconds=budget, grace_seconds=grace, threads=1),
                      **kw)


def test_the_command_runs_in_a_read_only_copy_with_seed_and_budget(project, monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-secret")
    (project / ".git").mkdir()
    (project / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (project / "autoresearch.db").write_bytes(b"our store")
    run = job(project, PROBE, seed=137).run()
    assert run.ok, run.log_tail
    summary = run.extra["summary"]
    assert summary["seed"] == 137 and summary["budget"] == 1.0
    assert summary["has_secret"] == 0 and summary["has_git"] == 0 and summary["has_store"] == 0
    assert summary["prepare_writable_bit"] == 0
    assert run.metric == pytest.approx(summary["val_loss"]) and run.metric > 0
    assert (project / "train.py").read_text() == TRAIN  # the user's files are never written
    assert run.sandbox


def test_karpathy_summary_block_gives_metric_steps_and_training_time(project):
    run = job(project, TRAIN).run()
    assert run.ok, run.log_tail
    assert run.steps == 100 and run.train_seconds == pytest.approx(0.1)
    assert run.test_metric is None and run.wall_seconds > 0


def test_a_json_line_works_too_and_the_last_value_wins(project):
    code = ("import json\nprint('val_loss: 9.0')\n"
            "print(json.dumps({'val_loss': 0.25, 'test_loss': 0.5, 'note': 'x'}))\n")
    run = job(project, code).run()
    assert run.ok and run.metric == 0.25 and run.test_metric == 0.5
    only_summary = job(project, code, metric_format="summary").run()
    assert only_summary.metric == 9.0


@pytest.mark.parametrize(("code", "failure", "reason"), [
    ("print('all done')\n", FailureKind.CRASH, "without printing `val_loss: <number>`"),
    ("raise ValueError('boom')\n", FailureKind.CRASH, "ValueError: boom"),
    ("print('val_loss: nan')\n", FailureKind.DIVERGENCE, "val_loss is nan"),
    ("print('val_loss: 0.1')\nprint('training_seconds: 9.5')\n", FailureKind.OVER_BUDGET,
     "trained 9.5s"),
])
def test_failures_are_classified_with_the_log_tail(project, code, failure, reason):
    run = job(project, code).run()
    assert run.failure is failure, run.log_tail
    assert reason in run.reason and run.metric is None


@pytest.mark.parametrize("mode", ["auto", "unshare", "none"])
def test_a_candidate_cannot_edit_the_fixed_files(project, monkeypatch, mode):
    monkeypatch.setenv("AUTORESEARCH_SANDBOX", mode)
    detect.cache_clear()  # detection is cached per process; redo it under this mode, then reset
    code = "with open('prepare.py', 'a') as f:\n    f.write('EVIL = 1')\nprint('val_loss: 0.0')\n"
    try:
        run = job(project, code).run()
    finally:
        detect.cache_clear()
    assert run.metric is None
    if mode != "none":  # mounted read-only (bubblewrap or the unshare mask): the write fails
        assert run.failure is FailureKind.CRASH
        assert "Read-only file system" in run.log_tail or "Permission denied" in run.log_tail
    else:  # writable copy: the change is caught after the run
        assert run.failure is FailureKind.INTEGRITY and "prepare.py" in run.reason


def test_a_missing_program_is_a_crash(project):
    run = job(project, TRAIN, command="no-such-program --flag").run()
    assert run.failure is FailureKind.CRASH and "cannot run 'no-such-program'" in run.log_tail


def test_a_hung_command_is_killed_at_the_timeout(project):
    code = "import time\nwhile True:\n    time.sleep(0.1)\n"
    run = job(project, code, budget=0.5, grace=2.0).run()
    assert run.failure is FailureKind.TIMEOUT and run.wall_seconds < 15


def test_several_edit_files_arrive_from_one_bundle(project):
    (project / "model.py").write_text("SCALE = 1.0\n")
    code = pack({"train.py": "from model import SCALE\nprint(f'val_loss: {SCALE * 2}')\n",
                 "model.py": "SCALE = 4.0  # search: float 0.5..8.0\n"})
    run = job(project, code, edit=("train.py", "model.py")).run()
    assert run.ok and run.metric == 8.0, run.log_tail
    broken = job(project, "print(1)\n", edit=("train.py", "model.py")).run()
    assert broken.failure is FailureKind.VALIDATION and "model.py" in broken.reason


def test_large_files_are_linked_not_copied_and_still_watched(tmp_path):
    source = make_project(tmp_path / "src", data__big_bin="x" * 2000)
    space = prepare_workspace(source, tmp_path / "copy", {"train.py": "pass\n"}, link_bytes=1000)
    assert (space.root / "data" / "big_bin").is_symlink()
    assert space.linked == ((source / "data" / "big_bin").resolve(),)
    assert not (space.root / "prepare.py").is_symlink() and space.changed() == []
    (source / "data" / "big_bin").write_text("y" * 2001)
    (space.root / "prepare.py").chmod(0o644)
    (space.root / "prepare.py").write_text("# changed\n")
    assert space.changed() == ["data/big_bin", "prepare.py"]


def test_summary_reader():
    text = ("step 00010 (5%) | loss: 3.2\n---\nval_bpb:          0.997900\n"
            "training_seconds: 300.1\nnum_steps:        953\n"
            + json.dumps({"val_bpb": 0.5, "name": "x", "flag": True}) + "\nbad: value\n")
    assert read_summary(text) == {"val_bpb": 0.5, "training_seconds": 300.1,
                                  "num_steps": 953.0}
    assert read_summary(text, "summary")["val_bpb"] == 0.9979
    assert read_summary(text, "json") == {"val_bpb": 0.5}
