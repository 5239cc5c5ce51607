"""How experiments look in the terminal."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from autoresearch.analysis.entities import changed_entities
from autoresearch.analysis.study import Summary
from autoresearch.engine import Observer
from autoresearch.records import Experiment, SeedRun, Status
from autoresearch.storage import Study

STYLE = {Status.KEPT: "bold green", Status.DISCARDED: "yellow", Status.RUNNING: "cyan",
         Status.PENDING: "dim", Status.MEASURED: "blue"}


def fmt(value: float | None, digits: int = 4) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def seed_line(run: SeedRun, metric: str) -> str:
    if run.screen is not None:
        return f"screening, {run.screen:.0%} of the budget: " + _seed_line(run, metric)
    return _seed_line(run, metric)


def _seed_line(run: SeedRun, metric: str) -> str:
    if run.ok:
        folds = run.extra.get("folds")
        if isinstance(folds, list):  # a CV repeat: folds fitted, not training steps
            stopped = "; " + str(run.extra["stopped"]) if run.extra.get("stopped") else ""
            return (f"seed {run.seed}: {metric}={run.metric:.4f}  ({len(folds)} folds fit in "
                    f"{run.train_seconds:.1f}s, wall {run.wall_seconds:.1f}s{stopped})")
        steps = f"{run.steps} steps, " if run.steps else ""  # a user's script may not say
        return (f"seed {run.seed}: {metric}={run.metric:.4f}  ({steps}"
                f"train {run.train_seconds:.1f}s, start-up {run.startup_seconds:.1f}s)")
    # The reason may quote the candidate's output: brackets in it are not rich markup.
    return (f"seed {run.seed}: {run.failure.value if run.failure else 'failed'} - "
            f"{escape(run.reason)}")


class LiveObserver(Observer):
    """One line as each seed finishes, one as each experiment is decided."""

    def __init__(self, console: Console, study: Study,
                 previous: list[Experiment] | None = None) -> None:
        self.console, self.study = console, study
        # LLM cost of the study so far; a resumed experiment's call is already in it.
        self.counted = {e.id for e in previous or []}
        self.spent = sum(cost_of(e) or 0.0 for e in previous or [])

    def experiment_started(self, experiment: Experiment) -> None:
        p = experiment.proposal
        self.console.print(f"[bold]#{experiment.number}[/] [dim]{p.mode.value}[/] "
                           f"{escape(p.description)}", highlight=False)

    def seed_finished(self, experiment: Experiment, run: SeedRun) -> None:
        # Numbered: with several experiments in flight, lines of different ones interleave.
        self.console.print(f"   #{experiment.number} " + seed_line(run, self.study.metric.name),
                           highlight=False)

    def experiment_finished(self, experiment: Experiment, best: Experiment | None) -> None:
        style = STYLE.get(experiment.status, "red")
        best_text = f"best {fmt(best.metric_mean)} (#{best.number})" if best else ""
        status = experiment.status.value.upper()
        self.console.print(f"   #{experiment.number} [{style}]{status}[/] "
                           f"{escape(experiment.reason)}  [dim]{best_text}[/]"
                           f"{self._cost_text(experiment)}", highlight=False)

    def _cost_text(self, experiment: Experiment) -> str:
        usage = experiment.proposal.usage
        if usage is None:
            return ""
        if experiment.id not in self.counted:
            self.counted.add(experiment.id)
            self.spent += usage.cost_usd or 0.0
        cost = "cost unknown" if usage.cost_usd is None else f"${usage.cost_usd:.4f}"
        prompt = usage.input_tokens + usage.cache_read_tokens + usage.cache_write_tokens
        return (f"  [dim]{escape(usage.model)}: {prompt:,} in / {usage.output_tokens:,} out "
                f"tokens, {cost}, total ${self.spent:.4f}[/]")


def cost_of(experiment: Experiment) -> float | None:
    usage = experiment.proposal.usage
    return None if usage is None else usage.cost_usd


def summary_line(summary: Summary) -> str:
    if summary.best is None or summary.baseline is None:
        return f"experiments {summary.experiments}, no kept result yet"
    gain = "" if summary.gain is None else f", gain {summary.gain:+.4f}"
    failures = ", ".join(f"{k} {v}" for k, v in sorted(summary.failures.items())) or "none"
    cost = f"  cost ${summary.cost_usd:.4f}" if summary.cost_usd else ""
    return (f"baseline {fmt(summary.baseline.metric_mean)}  best {fmt(summary.best.metric_mean)} "
            f"(#{summary.best.number}{gain}, sealed test {fmt(summary.best.test_mean)})  "
            f"experiments {summary.experiments}  kept {summary.kept}  failures: {failures}  "
            f"{f'ablations {summary.ablations}  ' if summary.ablations else ''}"
            f"{summary.noise.describe()}"
            f"{cost}")


def experiments_table(study: Study, experiments: list[Experiment], baseline: float | None) -> Table:
    metric = study.metric
    table = Table(title=f"{study.task}: {metric.name} {metric.arrow}  "
                        f"(budget {study.budget_seconds:g}s, data {study.data_hash})")
    for column, justify in (("#", "right"), ("status", "left"), ("mode", "left"),
                            ("category", "left"), ("description", "left"),
                            ("changed", "left"), (metric.name, "right"),
                            ("± std", "right"), ("Δ base", "right"), ("test", "right"),
                            ("seeds", "right"), ("time", "right"), ("parent", "right")):
        table.add_column(column, justify=justify, overflow="fold")  # type: ignore[arg-type]
    llm = any(e.proposal.usage is not None for e in experiments)
    if llm:  # LLM cost per experiment and cumulative, only for studies that used a model
        table.add_column("cost", justify="right")
        table.add_column("Σ cost", justify="right")
    by_id = {e.id: e for e in experiments}
    spent = 0.0
    for e in experiments:
        mean = e.metric_mean
        delta = "-" if mean is None or baseline is None else f"{metric.gain(mean, baseline):+.4f}"
        sealed = fmt(e.test_mean) if e.status is Status.KEPT else ""
        wall = sum(r.wall_seconds for r in e.every_run)
        seeds = f"{len(e.seed_runs)}" + (f" + {len(e.screens)} screening" if e.screens else "")
        parent = str(by_id[e.proposal.parent_id].number) \
            if e.proposal.parent_id in by_id else ""
        description = e.proposal.description
        if e.failure is not None:
            description += f" [{e.failure.value}: {e.reason[:80]}]"
        cost = cost_of(e)
        spent += cost or 0.0
        costs = [] if not llm else [
            "" if e.proposal.usage is None else "?" if cost is None else f"${cost:.4f}",
            f"${spent:.4f}"]
        table.add_row(str(e.number), f"[{STYLE.get(e.status, 'red')}]{e.status.value}[/]",
                      e.proposal.mode.value, e.proposal.category, escape(description),
                      escape(changed_entities(e, by_id)), fmt(mean), fmt(e.metric_std), delta,
                      sealed, seeds, f"{wall:.0f}s", parent, *costs)
    return table
