"""Candidates that are code the study already holds: recorded as duplicates, never run.

Code is compared after normalising what cannot change a run: comments, blank lines, layout
and how a number is written (`1e-3` and `0.001` are one constant). Python is compared as its
syntax tree; a file that does not parse (or is not Python) by its stripped lines. Each file of
a bundle is normalised on its own, under its name.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable

from autoresearch.bundle import sections
from autoresearch.records import Experiment, FailureKind, Mode, Status


def normalised(code: str) -> str:
    return "\n".join(f"{s.name}\n{_file(s.name, s.text)}" for s in sections(code))


def _file(name: str, text: str) -> str:
    if not name or name.endswith(".py"):
        try:
            return ast.dump(ast.parse(text))
        except (SyntaxError, ValueError):
            pass  # the validator reports it; compared as text meanwhile
    return "\n".join(line.rstrip() for line in text.splitlines() if line.strip())


class CodeIndex:
    """The study's codes by their normalised form: each one's earliest experiment that ran
    it (or will). Kept up to date by the loop, so a proposal costs one parse."""

    def __init__(self, history: Iterable[Experiment] = ()) -> None:
        self._first: dict[str, Experiment] = {}
        for experiment in history:
            self.add(experiment)

    def add(self, experiment: Experiment) -> None:
        if experiment.status is Status.DUPLICATE or experiment.failure is FailureKind.PROPOSAL:
            return  # no run of its own (a failed proposal holds its parent's code)
        if experiment.proposal.mode is Mode.ABLATION:
            return  # measured, never judged: the same code proposed later deserves its chance
        self._first.setdefault(normalised(experiment.code), experiment)

    def original(self, code: str) -> Experiment | None:
        return self._first.get(normalised(code))
