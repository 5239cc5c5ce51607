"""User project folders as tasks (`autoresearch run --project DIR --command ...`)."""

from autoresearch.tasks._project.git import BranchRecorder, ProjectBranch
from autoresearch.tasks._project.task import ProjectTask, load_project

__all__ = ["BranchRecorder", "ProjectBranch", "ProjectTask", "load_project"]
