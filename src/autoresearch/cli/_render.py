"""How experiments look in the terminal."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from autoresearch.engine import Observer
from autoresearch.storage import Experiment, SeedRun, Status, Study
from autoresearch.storage.analysis import Summary

STYLE = {Status.KEPT: "bold green", Status.DISCARDED: "yellow", Status.RUNNING: "cyan",
         Status.PENDING: "dim"}


def fmt(value: float | None, digits: int = 4) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def seed_line(run: SeedRun, metric: str) -> str:
    if run.ok:
        return (f"seed {run.seed}: {metric}={run.metric:.4f}  ({run.steps} steps, "
                f"train {run.train_seconds:.1f}s, start-up {run.startup_seconds:.1f}s)")
    return f"seed {run.seed}: {run.failure.value if run.failure else 'failed'} - {run.reason}"


class LiveObserver(Observer):
    """One line as each seed finishes, one as each experiment is decided."""

    def __init__(self, console: Console, study: Study) -> None:
        self.console, self.study = console, study

    def experiment_started(self, experiment: Experiment) -> None:
        p = experiment.proposal
        self.console.print(f"[bold]#{experiment.number}[/] [dim]{p.mode.value}[/] "
                           f"{p.description}", highlight=False)

    def seed_finished(self, experiment: Experiment, run: SeedRun) -> None:
        self.console.print("   " + seed_line(run, self.study.metric.name), highlight=False)

    def experiment_finished(self, experiment: Experiment, best: Experiment | None) -> None:
        style = STYLE.get(experiment.status, "red")
        best_text = f"best {fmt(best.metric_mean)} (#{best.number})" if best else ""
        self.console.print(f"   [{style}]{experiment.status.value.upper()}[/] "
                           f"{experiment.reason}  [dim]{best_text}[/]", highlight=False)


def summary_line(summary: Summary) -> str:
    if summary.best is None or summary.baseline is None:
        return f"experiments {summary.experiments}, no kept result yet"
    gain = "" if summary.gain is None else f", gain {summary.gain:+.4f}"
    failures = ", ".join(f"{k} {v}" for k, v in sorted(summary.failures.items())) or "none"
    cost = f"  cost ${summary.cost_usd:.4f}" if summary.cost_usd else ""
    return (f"baseline {fmt(summary.baseline.metric_mean)}  best {fmt(summary.best.metric_mean)} "
            f"(#{summary.best.number}{gain}, sealed test {fmt(summary.best.test_mean)})  "
            f"experiments {summary.experiments}  kept {summary.kept}  failures: {failures}"
            f"{cost}")


def experiments_table(study: Study, experiments: list[Experiment], baseline: float | None) -> Table:
    metric = study.metric
    table = Table(title=f"{study.task}: {metric.name} {metric.arrow}  "
                        f"(budget {study.budget_seconds:g}s, data {study.data_hash})")
    for column, justify in (("#", "right"), ("status", "left"), ("mode", "left"),
                            ("category", "left"), ("description", "left"),
                            (metric.name, "right"), ("± std", "right"), ("Δ base", "right"),
                            ("test", "right"), ("seeds", "right"), ("time", "right"),
                            ("parent", "right")):
        table.add_column(column, justify=justify, overflow="fold")  # type: ignore[arg-type]
    numbers = {e.id: e.number for e in experiments}
    for e in experiments:
        mean = e.metric_mean
        delta = "-" if mean is None or baseline is None else f"{metric.gain(mean, baseline):+.4f}"
        sealed = fmt(e.test_mean) if e.status is Status.KEPT else ""
        wall = sum(r.wall_seconds for r in e.seed_runs)
        parent = str(numbers.get(e.proposal.parent_id, "")) if e.proposal.parent_id else ""
        description = e.proposal.description
        if e.failure is not None:
            description += f" [{e.failure.value}: {e.reason[:80]}]"
        table.add_row(str(e.number), f"[{STYLE.get(e.status, 'red')}]{e.status.value}[/]",
                      e.proposal.mode.value, e.proposal.category, description, fmt(mean),
                      fmt(e.metric_std), delta, sealed, str(len(e.seed_runs)), f"{wall:.0f}s",
                      parent)
    return table
