"""Errors that are ours or the user's: raised, shown as one line, mapped to an exit code.

A candidate's faults (syntax error, crash, timeout, OOM, ...) are not exceptions of the
framework: they are recorded as outcomes in the store and the loop goes on.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from autoresearch.records import LLMUsage


class AutoresearchError(Exception):
    """Base class: the message names what was wrong and what to do."""

    exit_code = 1


class UsageError(AutoresearchError):
    """Bad input from the user (unknown task, bad option value, unreadable file)."""

    exit_code = 2


class StorageError(AutoresearchError):
    """The store cannot be opened, read or written."""

    exit_code = 3


class SchemaTooNewError(StorageError):
    """The store was written by a newer version of autoresearch."""


class DataUnavailableError(AutoresearchError):
    """A task's data cannot be found offline nor downloaded."""

    exit_code = 4


class BaselineFailed(AutoresearchError):
    """The baseline, the unmodified code, did not produce a metric: nothing can be compared."""

    exit_code = 5


class MachineBusy(AutoresearchError):
    """Other load starved runs of CPU: they were recorded as interfered and not judged (not
    the candidate's fault, nor ours); the next `run` resumes them."""

    exit_code = 7


class ProviderError(AutoresearchError):
    """The LLM provider refused or kept failing (bad key, quota, unknown model, outage)."""

    exit_code = 6


class CostLimitReached(Exception):
    """The next LLM call could exceed --max-cost: the run stops cleanly before making it."""


class ProposalError(Exception):
    """A proposer could not produce a candidate; recorded as a failed proposal, loop goes on.

    `usage` carries what the model calls behind the failed attempt cost, so it is recorded too.
    """

    def __init__(self, message: str, *, usage: LLMUsage | None = None,
                 proposer: str | None = None) -> None:
        super().__init__(message)
        self.usage, self.proposer = usage, proposer
