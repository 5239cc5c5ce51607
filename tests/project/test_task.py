"""A project folder as a task: options, study identity, validation, prompt, git branch."""

from __future__ import annotations

import subprocess

import pytest

from autoresearch.bundle import MARKER
from autoresearch.errors import UsageError
from autoresearch.records import FailureKind
from autoresearch.tasks._project import ProjectBranch, load_project

from .conftest import TRAIN, make_project


def task_of(project, *edit: str, **kw):
    return load_project(project, kw.get("command", "python train.py"), "val_loss",
                        kw.get("direction", "min"), edit or ("train.py",))


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
        load_project(options["project"], options["command"], options["metric"],
                     options["direction"], options["edit"])


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
    other_metric = load_project(project, "python train.py", "val_loss", "max", ("train.py",))
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
