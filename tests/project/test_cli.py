"""`autoresearch run --project` as a user runs it: real CLI, real store, real git."""

from __future__ import annotations

import subprocess

from ..conftest import run_cli
from .conftest import make_project

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
