"""Project runs as an adversary sees them: with --eval-command the metric comes from the
evaluation's own process only; the files the baseline writes are outputs, the rest is fixed;
shell commands keep a crash a crash. Real subprocesses, about a second each."""

from __future__ import annotations

import sys

from autoresearch.records import Experiment, FailureKind, Mode, Proposal, Status
from autoresearch.sandbox import JobOptions
from autoresearch.sandbox.shell import command_argv, uses_shell
from autoresearch.tasks._project import load_project
from autoresearch.tasks._project.settings import ProjectSettings

from .conftest import TRAIN, make_project
from .test_command import job

# Training writes its weights; the fixed eval.py reads them and scores them on prepare's data.
WRITES_WEIGHTS = TRAIN.replace('print("---")', 'np.save("weights.npy", w)\nprint("---")')
EVAL = '''import numpy as np

from prepare import evaluate

print(f"val_loss: {evaluate(np.load('weights.npy')):.6f}")
'''
FORGED = WRITES_WEIGHTS + 'print("val_loss: 0.000001")\n'


def eval_job(project, code, **kw):
    return job(project, code, eval_command="python eval.py", **kw)


def test_with_an_eval_command_a_printed_metric_forges_nothing(tmp_path):
    project = make_project(tmp_path / "proj")
    (project / "eval.py").write_text(EVAL)
    honest = eval_job(project, WRITES_WEIGHTS).run()
    assert honest.ok and honest.metric > 0.01, honest.log_tail
    forged = eval_job(project, FORGED).run()
    assert forged.ok and forged.metric == honest.metric, forged.log_tail
    assert "val_loss: 0.000001" in forged.log_tail  # printed, and ignored
    # Without the eval command the same candidate's number is taken at its word.
    assert job(project, FORGED).run().metric == 0.000001


def test_the_evaluation_sees_fixed_files_as_the_user_has_them(tmp_path):
    project = make_project(tmp_path / "proj")
    (project / "eval.py").write_text(EVAL)
    # Rewrite the evaluation (chmod first: a run as root or a file's owner can).
    tamper = ("import os\nos.chmod('eval.py', 0o644)\n"
              "open('eval.py', 'w').write('print(\"val_loss: 0.0\")')\n" + WRITES_WEIGHTS)
    run = eval_job(project, tamper).run()
    assert run.metric is None and run.failure in (FailureKind.INTEGRITY, FailureKind.CRASH)
    missing = eval_job(project, TRAIN).run()  # no weights: the evaluation itself fails
    assert missing.failure is FailureKind.CRASH and "eval command" in missing.reason


def test_what_the_baseline_writes_is_an_output_the_rest_stays_fixed(tmp_path):
    writer = TRAIN.replace('print("---")', 'open("out/ckpt.txt", "w").write(str(w))\n'
                                           'print("---")')
    project = make_project(tmp_path / "proj", train=writer, **{"out__ckpt.txt": "by hand\n"})
    task = load_project(project, ProjectSettings(command="python train.py", metric="val_loss",
                                                 direction="min", edit=("train.py",)))
    options = JobOptions(budget_seconds=1.0, grace_seconds=20.0, threads=1)
    base = task.seed_job(task.baseline_source(), 42, task.prepare(tmp_path, True), options).run()
    assert base.ok and "out/ckpt.txt" in base.extra["outputs"], base.log_tail
    changed = writer.replace("0.001", "0.002")
    strict = task.seed_job(changed, 42, task.prepare(tmp_path, True), options).run()
    assert strict.metric is None  # outputs unknown: the candidate may not write the file
    baseline = Experiment(1, 1, 0, Proposal(task.baseline_source(), "baseline", "baseline",
                                            Mode.BASELINE, None, "baseline"), "", Status.KEPT,
                          seed_runs=(base,))
    learned = task.with_baseline(baseline)
    assert learned.outputs == ("out/ckpt.txt",)
    run = learned.seed_job(changed, 42, task.prepare(tmp_path, True), options).run()
    assert run.ok, run.log_tail
    tamper = changed + ("import os\nos.chmod('prepare.py', 0o644)\n"
                        "open('prepare.py', 'a').write('#')\n")
    bad = learned.seed_job(tamper, 42, task.prepare(tmp_path, True), options).run()
    assert bad.metric is None and bad.failure in (FailureKind.INTEGRITY, FailureKind.CRASH)


def test_a_crash_inside_a_pipe_is_a_crash_and_python_is_ours(project):
    crashing = 'print("val_loss: 0.5")\nraise SystemExit(3)\n'
    assert job(project, crashing).run().failure is FailureKind.CRASH
    piped = job(project, crashing, command="python train.py | tee train.log").run()
    assert piped.failure is FailureKind.CRASH and piped.metric is None, piped.log_tail
    in_bash = job(project, crashing, command="bash -c 'python train.py | cat'").run()
    assert in_bash.failure is FailureKind.CRASH, in_bash.log_tail
    probe = ("import sys\nprint(f'venv: {int(sys.prefix != sys.base_prefix)}')\n"
             "print('val_loss: 1.0')\n")
    run = job(project, probe, command="sh -c 'python train.py'").run()
    assert run.ok and run.extra["summary"]["venv"] == int(sys.prefix != sys.base_prefix)


def test_shell_detection():
    assert uses_shell("python train.py | tee log") and uses_shell("a && b")
    assert uses_shell("python x.py > out.txt") and not uses_shell('python x.py "a|b" --lr=3')
    assert command_argv("python train.py | tee log")[1:4] == ["-o", "pipefail", "-c"]
    assert command_argv("sh -c 'python x.py'")[1:3] == ["-o", "pipefail"]
    assert command_argv("python x.py cfg.py")[1:] == ["x.py", "cfg.py"]


def test_a_metric_pattern_reads_nanogpt_lines(project):
    code = ("for s, v in ((0, 4.2), (150, 2.51)):\n"
            "    print(f'step {s}: train loss {v + 0.1:.2f}, val loss {v:.2f}')\n")
    run = job(project, code, metric_pattern=r"val loss ([0-9.]+)").run()
    assert run.ok and run.metric == 2.51, run.log_tail
    none = job(project, "print('done')\n", metric_pattern=r"val loss ([0-9.]+)").run()
    assert none.failure is FailureKind.CRASH and "--metric-pattern" in none.reason
