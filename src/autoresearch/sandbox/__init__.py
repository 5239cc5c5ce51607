"""Validate candidate code, then run it in an isolated subprocess and classify what happened."""

from autoresearch.sandbox.limits import Limits
from autoresearch.sandbox.runner import SeedJob, run_seed
from autoresearch.sandbox.validator import ValidationResult, validate

__all__ = ["Limits", "SeedJob", "ValidationResult", "run_seed", "validate"]
