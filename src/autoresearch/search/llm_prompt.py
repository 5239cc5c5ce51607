"""What the model is told: the research so far, turned into the templates' variables."""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from typing import Any

from autoresearch.analysis.entities import entity_changes, summarize
from autoresearch.analysis.study import baseline_of, best_of
from autoresearch.llm.prompts import render
from autoresearch.metric import Direction, Metric
from autoresearch.records import Experiment, Status
from autoresearch.sandbox.logs import sanitize
from autoresearch.search.lineage import MergePlan, conflicted
from autoresearch.search.proposer import ProposalContext
from autoresearch.tasks import Task


def system_prompt(task: Task, metric: Metric, budget_seconds: float,
                  categories: Sequence[str], knob_tuning: bool) -> str:
    return render("system.md.j2", budget_seconds=budget_seconds, metric_name=metric.name,
                  direction="lower" if metric.direction is Direction.MIN else "higher",
                  task_section=task.prompt_section().strip(), categories=list(categories),
                  knob_tuning=knob_tuning, harness=task.harness_module is not None)


def user_prompt(context: ProposalContext, *, history_lines: int, failures_shown: int,
                log_chars: int) -> str:
    history = list(context.history)
    best = best_of(history, context.metric)
    baseline = baseline_of(history)
    failed = [e for e in history if e.status.failed][-failures_shown:] if failures_shown else []
    insights = getattr(context.task, "prompt_insights", None)
    by_id = {e.id: e for e in history}
    return render(
        "user.md.j2",
        number=context.number, mode=context.mode.value, metric_name=context.metric.name,
        best=_summary(best) if best is not None else None,
        baseline=_metric(baseline.metric_mean) if baseline is not None else None,
        history=[_line(e, by_id) for e in history[-history_lines:]], total=len(history),
        failures=[_failure(e, log_chars) for e in failed],
        insights=list(insights(context.history)) if callable(insights) else [],
        parent={"number": context.parent.number, "metric": _metric(context.parent.metric_mean),
                "code": context.parent.code.rstrip("\n")},
    )


def merge_prompt(context: ProposalContext, plan: MergePlan) -> str:
    """The user prompt of a merge whose three-way merge had conflicts."""
    def side(e: Experiment) -> dict[str, Any]:
        diff = "".join(difflib.unified_diff(plan.ancestor.code.splitlines(True),
                                            e.code.splitlines(True),
                                            f"experiment-{plan.ancestor.number}",
                                            f"experiment-{e.number}"))
        return {**_summary(e), "diff": diff.rstrip("\n")}

    return render("merge.md.j2", number=context.number, metric_name=context.metric.name,
                  ancestor=_summary(plan.ancestor), ours=side(plan.ours),
                  theirs=side(plan.theirs), conflicted=conflicted(plan).rstrip("\n"),
                  parent_code=plan.ours.code.rstrip("\n"))


def _metric(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f}"


def _one_line(text: str, limit: int) -> str:
    flat = " ".join(text.replace("|", "/").split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def _summary(e: Experiment) -> dict[str, Any]:
    return {"number": e.number, "metric": _metric(e.metric_mean),
            "description": _one_line(e.proposal.description, 160)}


def _changed(e: Experiment, by_id: dict[int, Experiment]) -> str:
    """Which functions, classes and knobs it changed: shorter than its diff, and in the code's
    own terms (the model sees what was tried where)."""
    parent = by_id.get(e.proposal.parent_id) if e.proposal.parent_id is not None else None
    if parent is None:
        return "-"
    return _one_line(summarize(entity_changes(parent.code, e.code), 4), 140) or "nothing"


def _line(e: Experiment, by_id: dict[int, Experiment]) -> dict[str, Any]:
    if e.status in (Status.KEPT, Status.DISCARDED):
        outcome = e.status.value
    elif e.failure is not None:
        outcome = f"{e.status.value} ({e.failure.value})"
    else:
        outcome = e.status.value
    return {"number": e.number, "proposer": e.proposal.proposer, "mode": e.proposal.mode.value,
            "category": e.proposal.category, "description": _one_line(e.proposal.description, 120),
            "changed": _changed(e, by_id), "metric": _metric(e.metric_mean),
            "outcome": outcome}


def _failure(e: Experiment, log_chars: int) -> dict[str, Any]:
    run = next((r for r in e.seed_runs if not r.ok), None)
    tail = sanitize(run.log_tail, log_chars).strip() if run is not None and log_chars else ""
    return {"number": e.number, "kind": e.failure.value if e.failure else e.status.value,
            "reason": sanitize(e.reason, 600).strip(), "log_tail": tail}
