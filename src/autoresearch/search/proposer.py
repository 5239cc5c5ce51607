"""The Proposer interface and what it is told about the research so far."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from autoresearch.records import Experiment, Mode, Proposal
from autoresearch.tasks import Metric, Task


@dataclass(frozen=True)
class ProposalContext:
    task: Task
    metric: Metric
    mode: Mode
    parent: Experiment
    history: tuple[Experiment, ...]  # every experiment of the study so far, oldest first
    number: int  # the number the new experiment will get
    suggestion: Any = None  # what the strategy chose to try, if it chose (a pipeline combo)
    note: str = ""  # the strategy's reason for it


class Proposer(Protocol):
    name: str

    def propose(self, context: ProposalContext) -> Proposal:
        """A new candidate, or ProposalError with the reason (recorded; the loop goes on)."""
        ...
