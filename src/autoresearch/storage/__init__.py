"""Persistent record of every study, experiment and seed run (SQLite).

The records themselves (Experiment, SeedRun, Status, ...) are the package's shared vocabulary:
`autoresearch.records`.
"""

from autoresearch.storage.store import ENV_VAR, Store, Study, default_storage

__all__ = ["ENV_VAR", "Store", "Study", "default_storage"]
