"""`autoresearch run --project` as a user runs it: real CLI, real store, real git."""

from __future__ import annotations

import json
import subprocess

from ..conftest import run_cli
from .conftest import TRAIN, make_project

FLAGS = ["--command", "python train.py", "--metric", "val_loss", "--direction", "min",
         "--edit", "train.py"]


def git(repo, *args):
    return subprocess.run(["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@t",
                           *args], check=True, capture_output=True, text=True).stdout.strip()


def test_a_project_run_keeps_an_improvement_and_commits_it(cli_env, tmp_path):
    project = make_project(tmp_path / "proj")
    git(project, "init", "-q", "-b", "main")
    git(project, "add", ".")
    git(project, "commit", "-qm", "init")
    out = run_cli(["run", "--project", str(project), *FLAGS, "--train-seconds", "1",
                   "--max-experiments", "3", "--proposer", "offline",
                   "--git-branch", "autoresearch/tune"], cli_env, cwd=project)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "project:proj" in out.stdout and "KEPT" in out.stdout
    status = run_cli(["status", "--task", "project:proj"], cli_env)
    assert status.returncode == 0 and "kept" in status.stdout
    log = git(project, "log", "--format=%s", "autoresearch/tune")
    assert log.splitlines()[-1] == "init" and log.count("autoresearch: LEARNING_RATE") >= 1
    tuned = git(project, "show", "autoresearch/tune:train.py")
    assert "LEARNING_RATE = 0.001  #" not in tuned
    assert git(project, "status", "--porcelain") == ""  # the store is ours, outside the repo


def test_project_options_without_project_and_missing_direction(cli_env, tmp_path):
    out = run_cli(["run", "--task", "shakespeare", "--metric", "val_loss"], cli_env)
    assert out.returncode == 2 and "--metric only apply to --project" in out.stderr
    project = make_project(tmp_path / "proj")
    out = run_cli(["run", "--project", str(project), *FLAGS[:4], "--edit", "train.py"],
                  cli_env)
    assert out.returncode == 2 and "--direction min or max" in out.stderr
    assert "Traceback" not in out.stderr


NO_KNOBS = TRAIN.replace("  # search: log 1e-4..0.3 [optimizer]", "")


def test_nothing_to_propose_is_said_before_the_baseline(cli_env, tmp_path):
    project = make_project(tmp_path / "proj", train=NO_KNOBS)
    out = run_cli(["run", "--project", str(project), *FLAGS, "--train-seconds", "1"], cli_env)
    assert out.returncode == 2 and "nothing can be proposed" in out.stderr, out.stderr
    assert "#0 baseline" not in out.stdout  # nothing ran
    assert not (tmp_path / "store.db").exists()


def test_a_failed_baseline_shows_its_log_tail_and_the_likely_fix(cli_env, tmp_path):
    nano = TRAIN.split('print("---")')[0] + "print('step 150: train loss 2.47, val loss 2.51')\n"
    project = make_project(tmp_path / "proj", train=nano)
    out = run_cli(["baseline", "--project", str(project), *FLAGS, "--train-seconds", "1",
                   "--seeds", "42"], cli_env)
    text = " ".join((out.stdout + out.stderr).split())
    assert out.returncode == 5, text
    assert "log tail of seed 42" in text and "step 150: train loss 2.47, val loss 2.51" in text
    assert "--metric-pattern 'val loss ([-+0-9.eE]+)'" in text and "Traceback" not in text
    fixed = run_cli(["baseline", "--project", str(project), *FLAGS, "--train-seconds", "1",
                     "--seeds", "42", "--metric-pattern", "val loss ([-+0-9.eE]+)"], cli_env)
    assert fixed.returncode == 0 and "val_loss = 2.5100" in fixed.stdout, fixed.stdout


def test_init_then_run_alone_and_every_command_finds_the_project(cli_env, tmp_path):
    project = make_project(tmp_path / "proj")
    (project / "pyproject.toml").write_text('[project]\nname = "proj"\n')
    store = project / "runs.db"  # a store inside the project, not named autoresearch.db
    env = {**cli_env, "AUTORESEARCH_STORAGE": str(store)}
    out = run_cli(["init", *FLAGS, "--train-seconds", "1"], env, cwd=project)
    assert out.returncode == 0, out.stderr
    assert "[tool.autoresearch]" in (project / "pyproject.toml").read_text()
    assert "LEARNING_RATE" in out.stdout  # the knobs it will tune
    again = run_cli(["init", *FLAGS], env, cwd=project)
    assert again.returncode == 2 and "already has [tool.autoresearch]" in again.stderr
    first = run_cli(["run", "--max-experiments", "2", "--seeds", "42"], env, cwd=project)
    assert first.returncode == 0 and "project:proj" in first.stdout, first.stderr
    # The store inside the project is not part of it: the same command resumes the study.
    second = run_cli(["run", "--max-experiments", "2", "--seeds", "42"], env, cwd=project)
    assert "raise it to continue" in second.stdout, second.stdout
    for args in (["status", "--project", str(project)],
                 ["status", "--task", f"project:{project}"],
                 ["export", "--project", str(project), "-o", str(tmp_path / "r.json")],
                 ["report", "--task", f"project:{project}", "-o", str(tmp_path / "r.html")]):
        done = run_cli(args, env)
        assert done.returncode == 0, (args, done.stderr)
    evaluated = run_cli(["eval", "--task", f"project:{project}", str(project / "train.py"),
                         "--seeds", "42", "--json"], env)
    assert evaluated.returncode == 0 and '"status": "ok"' in evaluated.stdout, evaluated.stderr


def test_a_change_with_no_effect_is_flagged(cli_env, tmp_path):
    shadowed = TRAIN.replace("STEPS = 100", "STEPS = 100\nglobals().update(LEARNING_RATE=1e-3)")
    project = make_project(tmp_path / "proj", train=shadowed)
    out = run_cli(["run", "--project", str(project), *FLAGS, "--train-seconds", "1",
                   "--max-experiments", "1", "--seeds", "42", "--proposer", "offline"], cli_env)
    text = " ".join(out.stdout.split())
    assert out.returncode == 0, out.stderr
    assert "may be overridden by the write to globals()" in text
    assert "bit-identical to #0 on every seed: the change had no effect" in text


def test_eval_command_on_the_command_line_ignores_a_forged_line(cli_env, tmp_path):
    from .test_trust import EVAL, FORGED, WRITES_WEIGHTS

    project = make_project(tmp_path / "proj", train=WRITES_WEIGHTS)
    (project / "eval.py").write_text(EVAL)
    forged = tmp_path / "forged.py"
    forged.write_text(FORGED)
    scores = {}
    for name, path in (("honest", project / "train.py"), ("forged", forged)):
        out = run_cli(["eval", "--project", str(project), *FLAGS, "--eval-command",
                       "python eval.py", str(path), "--seeds", "42", "--json",
                       "--train-seconds", "1"], cli_env)
        assert out.returncode == 0, out.stdout + out.stderr
        scores[name] = json.loads(out.stdout)["mean"]
    assert scores["forged"] == scores["honest"] > 0.01
