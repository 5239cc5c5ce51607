"""What a user should most likely do about a failed baseline of their project, from its log."""

from __future__ import annotations

import re

from autoresearch.records import FailureKind, SeedRun
from autoresearch.sandbox.summary import suggest_pattern
from autoresearch.tasks._project.task import ProjectTask

TAIL_LINES = 20


def log_tail(run: SeedRun, lines: int = TAIL_LINES) -> str:
    return "\n".join(run.log_tail.rstrip().splitlines()[-lines:])


def likely_fix(task: ProjectTask, run: SeedRun) -> str:
    """One or two sentences; generic advice when nothing specific is recognised."""
    log, reason = run.log_tail, run.reason
    missing = re.search(r"No module named '([\w.]+)'", log)
    if missing:
        return (f"the interpreter running autoresearch has no module {missing[1]!r}: install it "
                "there (`python -m pip install ...` with that python), or install autoresearch "
                "into your project's environment; `python` in --command is that interpreter")
    if run.failure is FailureKind.INTEGRITY:
        return ("the files your own script writes (checkpoints, logs) are learned from its "
                "baseline run and may change; these are not among them: keep data and sources "
                "fixed, or write to a new file")
    if run.failure is FailureKind.TIMEOUT:
        return ("the command ran past --train-seconds + --grace: raise them, or have the "
                "script stop at the budget in AUTORESEARCH_TIME_BUDGET (seconds)")
    if "Read-only file system" in log or "Permission denied" in log:
        return ("the script writes to a file of the project that is fixed (read-only); files "
                "over 64 MB are shared read-only: write outputs to a new path")
    if "FileNotFoundError" in log or "No such file or directory" in log:
        return ("the script reads a file that is not in the project copy: under bubblewrap a "
                "run sees only the project folder, so keep the data inside it")
    if run.failure is FailureKind.CRASH and ("without printing" in reason
                                             or "nothing that matches" in reason):
        return _metric_hint(task, log)
    return "see the log tail above; `autoresearch eval --project ...` reruns one file quickly"


def _metric_hint(task: ProjectTask, log: str) -> str:
    name = task.metric.name
    found = suggest_pattern(log, name)
    if found is not None:
        line, pattern = found
        return (f"the output has `{line}`: read it with --metric-pattern '{pattern}' (the first "
                "group is the value; the last match counts)")
    return (f"print `{name}: <number>` at the end, or pass --metric-pattern REGEX whose first "
            "group is the number in the line that reports it")
