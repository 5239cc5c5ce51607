"""How good is the offline search: ours as shipped against a greedy loop and random search, at
equal compute, side by side in one run.

    python bench/search_efficiency.py [--train-seconds 10] [--equivalents 20] [--repeats 3]
    python bench/search_efficiency.py --tabular kr-vs-kp [-n 24] [--repeats 3]

Every search runs the real loop on shakespeare (real executor, sandboxed runs, a real store in
a temporary folder), over the same `# search:` annotated knobs of the baseline:
- ours: `run`'s defaults (offline proposer, top-k strategy, paired sequential keep rule on
  seeds 42 and 137, up to 4 seeds for near ties, re-measurements);
- greedy (karpathy/autoresearch's loop): one seed, the current best as parent, one knob
  redrawn from its declared range per experiment, kept if better;
- random: every knob drawn from its declared range, one seed, the best kept;
- screened (`--searches ours,screened,...`): ours with screening runs, each candidate first
  trained on one seed for `--screen` of the budget and given its full runs only when it is
  not clearly worse than the incumbent there;
- wide: screened, with the offline proposer's first moves (before TPE has 8 scores) redrawn
  over each knob's whole range instead of small steps from the parent.

Compute is counted in full-experiment equivalents: one seed run at the full budget, the
baseline's included (a search that measures more seeds or repeats spends its budget on them);
a screening run counts as its fraction of one (training seconds).
Each search stops at `--equivalents`; the sealed holdout is not scored (it is not search work).
The gain "as judged" is the search's own verdict (its best kept score against its own baseline
measurement); a search that keeps single-seed luck overstates it. So at the end each search's
best is scored again on seeds none of them saw (`--eval-seeds`), paired with the baseline on
the same seeds: the "re-scored" gain is the honest figure, and the ratios use it.

`--tabular NAME` compares, on a named dataset, our planner (the real `run --dataset NAME -n N`
command, offline) with random combos drawn from the same search space (every slot's
implementation and every parameter uniform over its range) at equal fold fits: random
search fits folds until it has fitted as many as the engine did (the engine stops hopeless
combos after a fold or two, so its fold count is below combos x folds). Both score by the same
CV; the best combo's sealed holdout is shown for each.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from rich.console import Console
from rich.table import Table as RichTable

from autoresearch.engine import ResearchLoop, RunSettings
from autoresearch.execution import make_executor
from autoresearch.knobs import apply_knobs, draw, format_value, parse_knobs
from autoresearch.pipeline.catalog import Renderer, space_for
from autoresearch.pipeline.fold import Problem, fit_predict, slots_of
from autoresearch.pipeline.scoring import PROBA_METRICS, score
from autoresearch.pipeline.table import Labelled, Table
from autoresearch.records import Experiment, Mode, Proposal, Status
from autoresearch.sandbox import JobOptions
from autoresearch.sandbox.load import MAX_FOREIGN_LOAD
from autoresearch.search.acceptance import Acceptance
from autoresearch.search.offline import OfflineProposer, parse_values
from autoresearch.search.proposer import ProposalContext
from autoresearch.search.strategy import Strategy
from autoresearch.storage import Store
from autoresearch.tasks import Task, get_task
from autoresearch.tasks._data import PreparedData


class SearchOnly:
    """The task without its holdout job: the searches are compared on search work alone."""

    def __init__(self, task: Task) -> None:
        self._task = task

    def __getattr__(self, name: str) -> Any:
        if name == "holdout_job":
            raise AttributeError(name)
        return getattr(self._task, name)


class KnobDraws:
    """Greedy (`every=False`: one knob of the parent redrawn) or random search (`every=True`:
    every knob of the baseline redrawn); both draw uniformly from the declared ranges."""

    def __init__(self, seed: int, every: bool) -> None:
        self.name = "random" if every else "greedy"
        self.every, self.seed = every, seed

    def propose(self, context: ProposalContext) -> Proposal:
        parent = context.history[0] if self.every else context.parent
        knobs = parse_knobs(parent.code)
        rng = random.Random(f"{self.name}:{self.seed}:{context.number}")
        chosen = list(knobs) if self.every else [rng.choice(list(knobs))]
        values = {n: knobs[n].draw(rng) for n in chosen}
        changed = {n: v for n, v in values.items() if v != knobs[n].value} or values
        code = apply_knobs(parent.code, knobs, changed)
        return Proposal(code=code, category="hyperparameter", mode=context.mode,
                        parent_id=parent.id, proposer=self.name, knobs=parse_values(code),
                        description=", ".join(f"{n} {format_value(v, knobs[n].kind)}"
                                              for n, v in changed.items()))


@dataclass(frozen=True)
class Outcome:
    search: str
    repeat: int
    curve: tuple[float, ...]  # gain as judged, at each checkpoint
    best: Experiment
    baseline: Experiment
    experiments: int
    runs: float
    seconds: float
    merges: tuple[str, ...]  # what became of each merge of two kept branches
    rescored: float = 0.0


def _runs(history: Sequence[Experiment]) -> float:
    """Training compute spent, in full seed runs."""
    return sum(len(e.seed_runs) + sum(r.screen or 0.0 for r in e.screens) for e in history)


def search(name: str, repeat: int, task: SearchOnly, data: PreparedData, job: JobOptions,
           equivalents: int, checkpoints: Sequence[int], folder: Path,
           screen: float) -> Outcome:
    metric = task.metric
    store = Store(folder / f"{name}-{repeat}.db")
    study = store.study(task.name, metric, job.budget_seconds, data.content_hash, data.source,
                        setup=f"search-efficiency {name}")
    if name in ("ours", "screened", "wide"):
        proposer: Any = OfflineProposer(seed=repeat, local=name != "wide")
        strategy = Strategy(metric)
        acceptance = Acceptance(metric)
        settings = RunSettings(job=job, search_seed=repeat, max_seeds=4,
                               screen=0.0 if name == "ours" else screen)
    else:
        proposer = KnobDraws(repeat, every=name == "random")
        strategy = Strategy(metric, top_k=1, weights=(1.0,), explore_every=10**9,
                            patience=10**9, merges=False)
        acceptance = Acceptance(metric, sequential=False)
        settings = RunSettings(job=job, seeds=(42,), search_seed=repeat, repeats=0, refresh=0)
    executor = make_executor("local", 1)
    loop = ResearchLoop(task=task, data=data, store=store, study=study, proposer=proposer,
                        strategy=strategy, acceptance=acceptance, executor=executor,
                        settings=settings)
    started = time.monotonic()
    # (runs spent when an experiment ended, the best's gain over the baseline then): both as
    # measured at that moment, since re-measurements move the baseline's mean too
    points: list[tuple[float, float]] = []
    try:
        baseline = loop.baseline()
        if baseline.status is not Status.KEPT:
            raise SystemExit(f"{name}: the baseline was not kept: {baseline.reason}")
        points.append((_runs(loop.history()), 0.0))
        made = 0
        while _runs(loop.history()) < equivalents and made < 4 * equivalents:
            made += 1
            loop.run(made)
            history = loop.history()
            best = strategy.best(history)
            assert best is not None and best.metric_mean is not None
            now = next(e for e in history if e.id == baseline.id)
            points.append((_runs(history), metric.gain(best.metric_mean, now.metric_mean or 0.0)))
    finally:
        executor.shutdown()
    history = loop.history()
    # The gain known once `point` runs were spent (none until then).
    curve = tuple(next((g for spent, g in reversed(points) if spent <= point), 0.0)
                  for point in checkpoints)
    best = strategy.best(history)
    assert best is not None
    searched = sum(1 for e in history if e.proposal.mode is not Mode.BASELINE)
    merges = tuple(f"#{e.number} {e.proposal.description}: {e.status.value}: {e.reason}"
                   for e in history if e.proposal.mode is Mode.MERGE)
    return Outcome(name, repeat, curve, best, baseline, searched, _runs(history),
                   time.monotonic() - started, merges)


def rescore(outcomes: list[Outcome], task: SearchOnly, data: PreparedData, job: JobOptions,
            seeds: Sequence[int]) -> list[Outcome]:
    """Each best, and the baseline, on seeds no search saw: the paired gain without luck."""
    executor = make_executor("local", 1)
    scores: dict[str, float] = {}

    def score(code: str) -> float:
        if code not in scores:
            metrics = [executor.submit(task.seed_job(code, s, data, job)).result().metric
                       for s in seeds]
            if any(m is None for m in metrics):
                raise SystemExit("a re-scoring run failed")
            scores[code] = statistics.fmean(m for m in metrics if m is not None)
        return scores[code]

    try:
        base = score(outcomes[0].baseline.code)
        return [Outcome(**{**o.__dict__,
                           "rescored": task.metric.gain(score(o.best.code), base)})
                for o in outcomes]
    finally:
        executor.shutdown()


def _spread(values: Sequence[float]) -> str:
    if len(values) < 2:
        return f"{values[0]:+.3f}"
    return f"{statistics.fmean(values):+.3f} ± {statistics.stdev(values):.3f}"


def _ratio(ours: Sequence[float], other: Sequence[float]) -> str:
    mean = statistics.fmean(other)
    return f"{statistics.fmean(ours) / mean:.2f}x" if mean > 0 else "n/a (no gain)"


def report(console: Console, outcomes: list[Outcome], checkpoints: Sequence[int],
           setting: str) -> None:
    names = list(dict.fromkeys(o.search for o in outcomes))
    table = RichTable(title=f"search efficiency: gain over the baseline (val_bpb, lower is "
                        f"better, so gain = baseline - best), {setting}")
    table.add_column("search")
    for point in checkpoints:
        table.add_column(f"{point} eq. (as judged)", justify="right")
    for column in ("re-scored gain", "experiments", "minutes"):
        table.add_column(column, justify="right")
    by = {n: [o for o in outcomes if o.search == n] for n in names}
    for name in names:
        group = by[name]
        table.add_row(name, *(_spread([o.curve[i] for o in group])
                              for i in range(len(checkpoints))),
                      _spread([o.rescored for o in group]),
                      f"{statistics.fmean(o.experiments for o in group):.1f}",
                      f"{statistics.fmean(o.seconds for o in group) / 60:.1f}")
    console.print(table)
    for o in outcomes:
        console.print(f"  {o.search} #{o.repeat}: best #{o.best.number} "
                      f"{o.best.metric_mean:.4f} ({o.best.proposal.description[:90]}), "
                      f"baseline {o.baseline.metric_mean:.4f}, re-scored gain "
                      f"{o.rescored:+.4f}, {o.runs:g} runs", highlight=False)
        for merge in o.merges:
            console.print(f"    merge {merge}", highlight=False)
    for mine in (n for n in ("ours", "screened", "wide") if n in by):
        for other in (n for n in ("greedy", "random") if n in by):
            rescored = _ratio([o.rescored for o in by[mine]], [o.rescored for o in by[other]])
            judged = _ratio([o.curve[-1] for o in by[mine]], [o.curve[-1] for o in by[other]])
            console.print(f"{mine} / {other}: re-scored gain {rescored}; as judged at "
                          f"{checkpoints[-1]} eq. {judged}", highlight=False)


def random_combos(table: Table, fits: int, seed: int) -> tuple[float, float | None, int]:
    """Random combos of the space, each scored on every seed's folds, until `fits` folds were
    fitted: (best CV mean, its holdout, combos scored)."""
    warnings.simplefilter("ignore")  # random combos make scikit-learn complain a lot
    data = Labelled.load(table)
    space = space_for("sklearn", data.kind)
    renderer = Renderer(space, "sklearn", data.kind, data.metric.name)
    rng = random.Random(f"random-combos:{seed}")
    threads, n, proba = os.cpu_count() or 1, len(data.classes), data.metric.name in PROBA_METRICS
    splits = {s: data.splits(s) for s in table.seeds}
    best: tuple[float, str] | None = None
    done = combos = 0
    while done < fits:
        combo = space.default_combo()
        for slot in space.slots:
            impl = rng.choice(space.of(slot))
            params = {p.name: draw(p.kind, p.low, p.high, p.choices, rng) for p in impl.params}
            combo = combo.replace(slot, impl.name, params, impl.family_name, impl.code or None)
        code = renderer.render(combo)
        scores = []
        try:
            slots = slots_of(code)
            for s in table.seeds:
                problem = Problem(data.kind, n, s, threads, data.metric.name)
                for train, valid in splits[s]:
                    done += 1
                    predicted = fit_predict(slots, problem, data.X_dev, train,
                                            data.y_dev[train], valid, proba)
                    scores.append(score(data.metric.name, data.y_dev[valid], predicted, n))
        except Exception:  # a combo that fails (as the engine records it) still cost its fits
            continue
        combos += 1
        mean = statistics.fmean(scores)
        if best is None or mean > best[0]:
            best = (mean, code)
    if best is None:
        return float("nan"), None, combos
    X = pd.concat([data.X_dev, data.X_holdout], ignore_index=True)
    dev, rows = np.arange(len(data.X_dev)), np.arange(len(data.X_dev), len(X))
    problem = Problem(data.kind, n, table.seeds[0], threads, data.metric.name)
    predicted = fit_predict(slots_of(best[1]), problem, X, dev, data.y_dev, rows, proba)
    return best[0], score(data.metric.name, data.y_holdout, predicted, n), combos


def _score(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f}"


def tabular(console: Console, name: str, n: int, repeats: int) -> None:
    """Our planner (the real command) against random combos at equal fold fits."""
    sys.path.insert(0, str(Path(__file__).parent))
    from tabular import engine  # the same runner as bench/tabular.py

    cache = Path(tempfile.mkdtemp(prefix="bench-search-tabular-"))
    load = os.getloadavg()[0]
    ours, history, table = engine(name, n, "42,137", None, cache, float("inf"))
    fits = sum(len(r.extra.get("folds", ())) for e in history for r in e.seed_runs)
    out = RichTable(title=f"{name}: our planner (-n {n}) vs random combos at equal fold fits "
                      f"({fits}); load {load:.2f} at start")
    for column in ("search", "best CV", "holdout", "combos"):
        out.add_column(column, justify="right")
    out.add_row("ours", _score(ours.best), _score(ours.holdout), str(ours.combos))
    drawn = [random_combos(table, fits, seed) for seed in range(repeats)]
    for seed, (best, holdout, combos) in enumerate(drawn):
        out.add_row(f"random #{seed}", _score(best), _score(holdout), str(combos))
    out.add_row("random (mean)", f"{statistics.fmean(d[0] for d in drawn):.4f}", "", "")
    console.print(out)
    console.print(f"load {os.getloadavg()[0]:.2f} at end", highlight=False)


def main(argv: Sequence[str] | None = None,
         console_factory: Callable[[], Console] = Console) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train-seconds", type=float, default=10.0,
                        help="training budget per seed run (shakespeare's default is 30)")
    parser.add_argument("--equivalents", type=int, default=20,
                        help="compute per search, in seed runs at the full budget")
    parser.add_argument("--every", type=int, default=5, help="checkpoint spacing")
    parser.add_argument("--repeats", type=int, default=3, help="search seeds per search")
    parser.add_argument("--searches", default="ours,greedy,random")
    parser.add_argument("--eval-seeds", default="1001,1002")
    parser.add_argument("--screen", type=float, default=0.25,
                        help="budget fraction of the screened search's screening runs")
    parser.add_argument("--tabular", metavar="DATASET",
                        help="compare on this named dataset instead (e.g. kr-vs-kp)")
    parser.add_argument("-n", type=int, default=24, help="experiments of the tabular run")
    parser.add_argument("--max-foreign-load", type=float, default=MAX_FOREIGN_LOAD,
                        help="as `run`'s (1: no starved-run check, for a smoke test on a "
                        "busy machine)")
    args = parser.parse_args(argv)
    console = console_factory()
    if args.tabular:
        return tabular(console, args.tabular, args.n, args.repeats)
    task = SearchOnly(get_task("shakespeare"))
    cache = os.environ.get("AUTORESEARCH_CACHE", str(Path.home() / ".cache" / "autoresearch"))
    data = task.prepare(Path(cache), offline=True)
    job = JobOptions(args.train_seconds, device="cpu", max_foreign_load=args.max_foreign_load)
    checkpoints = [*range(args.every, args.equivalents, args.every), args.equivalents]
    load = os.getloadavg()[0]
    outcomes = []
    with tempfile.TemporaryDirectory(prefix="autoresearch-search-") as tmp:
        for repeat in range(args.repeats):
            for name in args.searches.split(","):
                outcome = search(name, repeat, task, data, job, args.equivalents, checkpoints,
                                 Path(tmp), args.screen)
                console.print(f"{name} #{repeat}: best {outcome.best.metric_mean:.4f} after "
                              f"{outcome.experiments} experiments, {outcome.runs:g} runs, "
                              f"{outcome.seconds:.0f} s; load {os.getloadavg()[0]:.2f}",
                              highlight=False)
                outcomes.append(outcome)
    seeds = [int(s) for s in args.eval_seeds.split(",")]
    outcomes = rescore(outcomes, task, data, job, seeds)
    setting = (f"{args.train_seconds:g} s per seed run, {args.equivalents} equivalents, "
               f"{args.repeats} search seeds, re-scored on seeds {args.eval_seeds}, load "
               f"{load:.2f} at start / {os.getloadavg()[0]:.2f} at end")
    report(console, outcomes, checkpoints, setting)


if __name__ == "__main__":
    main()
