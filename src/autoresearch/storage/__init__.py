"""Persistent record of every study, experiment and seed run (SQLite)."""

from autoresearch.storage.records import (
    Experiment,
    FailureKind,
    LLMUsage,
    Mode,
    Proposal,
    SeedRun,
    Status,
)
from autoresearch.storage.store import ENV_VAR, Store, Study, default_storage

__all__ = ["ENV_VAR", "Experiment", "FailureKind", "LLMUsage", "Mode", "Proposal", "SeedRun",
           "Status", "Store", "Study", "default_storage"]
