"""A project folder as a task: options, study identity, validation, prompt, git branch."""

from __future__ import annotations

import subprocess

import pytest

from autoresearch.bundle import MARKER
from autoresearch.errors import UsageError
from autoresearch.records import FailureKind
from autoresearch.tasks._project import ProjectBranch, load_project
from autoresearch.tasks._project.settings import ProjectSettings

from .conftest import TRAIN, make_project


def settings(command="python train.py", metric="val_loss", direction="min",
             edit=("train.py",), **kw) -> ProjectSettings:
    return ProjectSettings(command=command, metric=metric, direction=direction, edit=edit, **kw)


def task_of(project, *edit: str, **kw):
    return load_project(project, settings(edit=edit or ("train.py",), **kw))


@pytest.mark.parametrize(("args", "message"), [
    ({"project": "missing"}, "is not a folder"),
    ({"command": ""}, "--command"),
    ({"metric": None}, "--metric NAME"),
    ({"direction": None}, "--direction min or max"),
    ({"direction": "sideways"}, "direction must be 'min' or 'max'"),
    ({"edit": ()}, "--edit FILE"),
    ({"edit": ("../outside.py",)}, "is not inside the project"),
    ({"edit": ("nope.py",)}, "no such file"),
    ({"edit": ("blob.bin",)}, "not a UTF-8 text file"),
])
def test_bad_options_are_one_clear_usage_error(project, args, message):
    (project / "blob.bin").write_bytes(b"\xff\xfe\x00")
    options = {"project": project, "command": "python train.py", "metric": "val_loss",
               "direction": "min", "edit": ("train.py",), **args}
    if options["project"] == "missing":
        options["project"] = project / "missing"
    with pytest.raises(UsageError, match=message):
        load_project(options.pop("project"), settings(**options))


def test_a_study_is_bound_to_the_exact_project(project, tmp_path):
    task = task_of(project)
    assert task.name == "project:proj" and task.harness_module is None
    first = task.prepare(tmp_path, offline=True)
    (project / "autoresearch.db").write_bytes(b"the store changes all the time")
    (project / "__pycache__").mkdir()
    (project / "__pycache__" / "prepare.cpython-311.pyc").write_bytes(b"x")
    assert task.prepare(tmp_path, offline=True).content_hash == first.content_hash
    (project / "prepare.py").write_text((project / "prepare.py").read_text() + "# edit\n")
    assert task.prepare(tmp_path, offline=True).content_hash != first.content_hash
    other_metric = task_of(project, direction="max")
    assert other_metric.prepare(tmp_path, offline=True).content_hash != first.content_hash


def test_validation_asks_only_for_parseable_files(project):
    task = task_of(project)
    own_seed = "import os\nimport torch\ntorch.manual_seed(int(os.environ['AUTORESEARCH_SEED']))\n"
    assert task.validate(own_seed).ok
    broken = task.validate("def f(:\n")
    assert broken.failure is FailureKind.SYNTAX and "train.py line 1" in broken.reason
    (project / "cfg.yaml").write_text("lr: 1\n")
    two = task_of(project, "train.py", "cfg.yaml")
    assert two.validate(two.baseline_source()).ok
    assert two.validate(TRAIN).failure is FailureKind.VALIDATION


def test_baseline_and_prompt(project):
    single = task_of(project)
    assert single.baseline_source() == TRAIN
    text = single.prompt_section()
    assert "`python train.py`" in text and "`val_loss`" in text and "lower" in text
    assert "- `prepare.py`" in text and "AUTORESEARCH_SEED" in text and MARKER not in text
    (project / "model.py").write_text("W = 1\n")
    double = task_of(project, "train.py", "model.py")
    assert double.baseline_source().startswith(f"{MARKER}train.py\n")
    assert MARKER in double.prompt_section() and "- `model.py`" not in double.prompt_section()


def test_the_prompt_carries_program_md_the_eval_command_and_overridden_knobs(project):
    (project / "program.md").write_text("Beat the loss. Never touch prepare.py.\n")
    (project / "train.py").write_text(TRAIN + "LEARNING_RATE = 0.01\n")
    task = task_of(project, eval_command="python eval.py", metric_pattern="loss ([0-9.]+)")
    text = " ".join(task.prompt_section().split())
    assert "Beat the loss. Never touch prepare.py." in text and "program.md" in text
    assert "`python eval.py`" in text and "what training prints does not count" in text
    assert "`loss ([0-9.]+)`" in text
    assert "knob LEARNING_RATE (train.py line 5) is overridden by the assignment at line" in text


def git(repo, *args):
    return subprocess.run(["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@t",
                           *args], check=True, capture_output=True, text=True).stdout.strip()


def test_branch_commits_leave_the_working_tree_alone(tmp_path):
    repo = tmp_path / "repo"
    project = make_project(repo / "sub" / "proj")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "init")
    head = git(repo, "rev-parse", "HEAD")
    branch = ProjectBranch.open(project, "autoresearch/run1")
    assert branch.prefix == "sub/proj/" and branch.tip() is None
    assert branch.commit({"train.py": TRAIN}, "same as HEAD") is None
    first = branch.commit({"train.py": TRAIN.replace("0.001", "0.002")}, "faster")
    second = branch.commit({"train.py": TRAIN.replace("0.001", "0.004")}, "faster still")
    assert branch.tip() == second and git(repo, "rev-parse", f"{second}^") == first
    assert git(repo, "rev-parse", f"{first}^") == head
    assert "0.004" in git(repo, "show", f"{second}:sub/proj/train.py")
    assert git(repo, "rev-parse", "HEAD") == head and git(repo, "status", "--porcelain") == ""
    with pytest.raises(UsageError, match="checked out"):
        ProjectBranch.open(project, "main")
    with pytest.raises(UsageError, match="not a valid branch name"):
        ProjectBranch.open(project, "bad..name")
    with pytest.raises(UsageError, match="not inside a git repository"):
        ProjectBranch.open(make_project(tmp_path / "plain"), "x")
