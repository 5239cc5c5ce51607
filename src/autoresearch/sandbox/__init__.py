"""Validate candidate code, then run it in an isolated subprocess and classify what happened."""

from autoresearch.sandbox.environment import candidate_environment
from autoresearch.sandbox.limits import Limits
from autoresearch.sandbox.runner import Job, JobOptions, SeedJob, run_seed
from autoresearch.sandbox.validator import ValidationResult, validate

__all__ = ["Job", "JobOptions", "Limits", "SeedJob", "ValidationResult", "candidate_environment",
           "run_seed", "validate"]
