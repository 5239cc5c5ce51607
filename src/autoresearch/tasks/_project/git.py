"""`--git-branch NAME`: every kept experiment becomes a commit on a branch of the user's project.

Commits are made with git plumbing on a temporary index, so the user's working tree, index and
checked-out branch are never touched; the branch starts at the project's HEAD.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from autoresearch.bundle import unpack
from autoresearch.errors import UsageError
from autoresearch.records import Experiment, SeedRun, Status
from autoresearch.tasks._project.task import ProjectTask

# Used only when the repository has no identity of its own configured.
IDENTITY = {"GIT_AUTHOR_NAME": "autoresearch", "GIT_AUTHOR_EMAIL": "autoresearch@localhost",
            "GIT_COMMITTER_NAME": "autoresearch", "GIT_COMMITTER_EMAIL": "autoresearch@localhost"}


class GitError(UsageError):
    """git refused something; the message says what."""


def _git(repo: Path, *args: str, env: dict[str, str] | None = None, stdin: str | None = None,
         check: bool = True) -> str:
    done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True,
                          input=stdin, env={**os.environ, **(env or {})}, timeout=60)
    if check and done.returncode != 0:
        raise GitError(f"git {args[0]} failed in {repo}: {done.stderr.strip()[:300]}")
    return done.stdout.strip()


@dataclass(frozen=True)
class ProjectBranch:
    top: Path  # the repository's top level (the project may be a folder inside it)
    prefix: str  # the project's path inside the repository, "" or ending with "/"
    branch: str

    @classmethod
    def open(cls, project: Path, branch: str) -> ProjectBranch:
        if shutil.which("git") is None:
            raise UsageError("--git-branch needs git on PATH")
        done = subprocess.run(["git", "-C", str(project), "rev-parse", "--show-toplevel"],
                              capture_output=True, text=True)
        if done.returncode != 0:
            raise UsageError(f"--git-branch: {project} is not inside a git repository")
        top = Path(done.stdout.strip()).resolve()
        if _git(top, "check-ref-format", "--branch", branch, check=False) == "":
            raise UsageError(f"--git-branch {branch!r} is not a valid branch name")
        if not _git(top, "rev-parse", "--verify", "-q", "HEAD", check=False):
            raise UsageError(f"--git-branch: the repository at {top} has no commit yet")
        checked_out = _git(top, "worktree", "list", "--porcelain").splitlines()
        if f"branch refs/heads/{branch}" in checked_out:
            raise UsageError(f"--git-branch {branch} is checked out in the project; name a "
                             "branch that autoresearch alone writes to")
        prefix = project.resolve().relative_to(top).as_posix()
        return cls(top, "" if prefix == "." else prefix + "/", branch)

    def tip(self) -> str | None:
        return _git(self.top, "rev-parse", "--verify", "-q", f"refs/heads/{self.branch}",
                    check=False) or None

    def commit(self, files: dict[str, str], message: str) -> str | None:
        """Commit `files` (project-relative path -> text) on the branch; None if unchanged."""
        old = self.tip()
        parent = old or _git(self.top, "rev-parse", "HEAD")
        identity = {} if _git(self.top, "config", "user.email", check=False) else IDENTITY
        with tempfile.TemporaryDirectory(prefix="autoresearch-git-") as tmp:
            env = {"GIT_INDEX_FILE": str(Path(tmp) / "index"), **identity}
            _git(self.top, "read-tree", parent, env=env)
            for name, text in files.items():
                path = self.prefix + name
                listed = _git(self.top, "ls-tree", parent, "--", path).split()
                mode = listed[0] if listed else "100644"
                blob = _git(self.top, "hash-object", "-w", "--stdin", stdin=text)
                _git(self.top, "update-index", "--add", "--cacheinfo", f"{mode},{blob},{path}",
                     env=env)
            tree = _git(self.top, "write-tree", env=env)
            if tree == _git(self.top, "rev-parse", f"{parent}^{{tree}}"):
                return None
            commit = _git(self.top, "commit-tree", tree, "-p", parent, "-m", message, env=env)
        _git(self.top, "update-ref", f"refs/heads/{self.branch}", commit, old or "")
        return commit


def commit_message(experiment: Experiment, metric: str) -> str:
    runs: tuple[SeedRun, ...] = experiment.seed_runs
    scores = ", ".join(f"seed {r.seed}: {r.metric:.6g}" for r in runs if r.metric is not None)
    mean = experiment.metric_mean
    return (f"autoresearch: {experiment.proposal.description}\n\n"
            f"{metric} {mean:.6g} (mean; {scores})\n{experiment.reason}\n\n"
            f"Autoresearch-Experiment: {experiment.number}\n")


class _Observer(Protocol):
    """The engine's Observer hooks (engine.loop.Observer), named here without importing the
    engine: tasks sit below it."""

    def experiment_started(self, experiment: Experiment) -> None: ...

    def seed_finished(self, experiment: Experiment, run: SeedRun) -> None: ...

    def experiment_finished(self, experiment: Experiment, best: Experiment | None) -> None: ...


class BranchRecorder:
    """An engine Observer: forwards every event to `inner`, and commits each kept experiment
    to the branch."""

    def __init__(self, inner: _Observer, task: ProjectTask, branch: ProjectBranch) -> None:
        self.inner, self.task, self.branch = inner, task, branch

    def experiment_started(self, experiment: Experiment) -> None:
        self.inner.experiment_started(experiment)

    def seed_finished(self, experiment: Experiment, run: SeedRun) -> None:
        self.inner.seed_finished(experiment, run)

    def experiment_finished(self, experiment: Experiment, best: Experiment | None) -> None:
        if experiment.status is Status.KEPT:
            self.branch.commit(unpack(experiment.code, self.task.edit),
                               commit_message(experiment, self.task.metric.name))
        self.inner.experiment_finished(experiment, best)
