"""A/A test of the keep rule: how often a change that does nothing is kept, and how often a
known-good change is.

    python bench/aa.py --experiments 20 --train-seconds 10 [--busy] [--budget-unit cpu] [--power 5]

Runs the real loop (real executor, sandboxed runs, a real store in a temporary folder) on the
shakespeare task. The A/A proposer emits candidates that change nothing the training reads
(a new module-level constant no code uses): different code, so the duplicate check lets them
run. The false-keep rate is kept / experiments (target <= 5 %). `--busy` starts a CPU-bound
process beside the runs; starved runs are then re-run or left unjudged, as `run` does (its
default --max-foreign-load). `--power N` then runs N fresh studies whose one candidate makes a
change known to help at the budget (`--good`, default BLOCK_SIZE 128 -> 64: about +0.15 val_bpb
at 10 s on the 2-core reference machine) and counts how often it is kept (target >= 90 %).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import re
import statistics
import tempfile
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from autoresearch.analysis.noise import noise_of
from autoresearch.engine import ResearchLoop, RunSettings
from autoresearch.execution import make_executor
from autoresearch.records import Experiment, Proposal, Status
from autoresearch.sandbox import JobOptions
from autoresearch.sandbox.load import MAX_FOREIGN_LOAD
from autoresearch.search.acceptance import Acceptance
from autoresearch.search.proposer import ProposalContext
from autoresearch.search.strategy import Strategy
from autoresearch.storage import Store
from autoresearch.tasks import get_task

TASK = get_task("shakespeare")


class NeutralProposer:
    """Each candidate is its parent plus one constant nothing reads."""

    name = "aa"

    def propose(self, context: ProposalContext) -> Proposal:
        code = f"{context.parent.code}\nAA_UNUSED_{context.number} = {context.number}\n"
        return Proposal(code=code, description=f"unused constant {context.number}",
                        category="aa", mode=context.mode, parent_id=context.parent.id,
                        proposer=self.name)


class GoodProposer:
    """One candidate: the parent with one knob set to a value known to help."""

    name = "good"

    def __init__(self, assignment: str) -> None:
        self.name_, self.value = (part.strip() for part in assignment.split("=", 1))

    def propose(self, context: ProposalContext) -> Proposal:
        code, found = re.subn(rf"^{self.name_} = [^#\n]+", f"{self.name_} = {self.value} ",
                              context.parent.code, flags=re.M)
        if not found:
            raise SystemExit(f"--good: the baseline has no knob {self.name_}")
        return Proposal(code=code, description=f"{self.name_} = {self.value}",
                        category="good", mode=context.mode, parent_id=context.parent.id,
                        proposer=self.name)


def study(folder: Path, proposer: NeutralProposer | GoodProposer, experiments: int,
          job: JobOptions, max_seeds: int) -> list[Experiment]:
    data = TASK.prepare(Path.home() / ".cache" / "autoresearch", offline=True)
    store = Store(folder / "aa.db")
    record = store.study(TASK.name, TASK.metric, job.budget_seconds, data.content_hash,
                         data.source, setup=f"aa, {job.budget_unit}")
    executor = make_executor("local", 1)
    loop = ResearchLoop(task=TASK, data=data, store=store, study=record, proposer=proposer,
                        strategy=Strategy(TASK.metric), acceptance=Acceptance(TASK.metric),
                        executor=executor,
                        settings=RunSettings(job=job, max_seeds=max_seeds))
    try:
        if loop.baseline().status is Status.KEPT:  # a starved baseline: nothing to judge
            loop.run(experiments)
    finally:
        executor.shutdown()
    return loop.history()


def _spin() -> None:
    while True:
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--experiments", type=int, default=20)
    parser.add_argument("--train-seconds", type=float, default=10.0)
    parser.add_argument("--budget-unit", choices=("wall", "cpu"), default="wall")
    parser.add_argument("--max-seeds", type=int, default=4)
    parser.add_argument("--busy", action="store_true", help="a CPU-bound process beside")
    parser.add_argument("--max-foreign-load", type=float, default=MAX_FOREIGN_LOAD,
                        help="as `run`'s; 1 turns the starved-run defence off")
    parser.add_argument("--power", type=int, default=0, help="repeats of the power check")
    parser.add_argument("--good", default="BLOCK_SIZE = 64",
                        help="the known-good change of the power check: KNOB = value")
    args = parser.parse_args()
    console = Console()
    spinner = multiprocessing.Process(target=_spin, daemon=True) if args.busy else None
    if spinner is not None:
        spinner.start()
    job = JobOptions(args.train_seconds, device="cpu", budget_unit=args.budget_unit,
                     max_foreign_load=args.max_foreign_load)
    setting = (f"{args.train_seconds:g} {args.budget_unit}-clock s per seed, "
               f"--max-foreign-load {args.max_foreign_load:g}"
               f"{', CPU-bound process beside' if args.busy else ''}")
    try:
        with tempfile.TemporaryDirectory(prefix="autoresearch-aa-") as tmp:
            history = study(Path(tmp), NeutralProposer(), args.experiments, job,
                            args.max_seeds)
        _report(console, history, setting)
        good = []
        for i in range(args.power):
            with tempfile.TemporaryDirectory(prefix="autoresearch-power-") as tmp:
                one = study(Path(tmp), GoodProposer(args.good), 1, job, args.max_seeds)
            good.append(one[-1])
            console.print(f"power {i + 1}: {one[-1].status.value}: {escape(one[-1].reason)}",
                          highlight=False)
        if good:
            hits = sum(1 for e in good if e.status is Status.KEPT)
            console.print(f"power: {args.good} kept {hits}/{len(good)} = "
                          f"{hits / len(good):.0%} (target >= 90 %), {setting}; load "
                          f"{os.getloadavg()[0]:.2f}", highlight=False)
    finally:
        if spinner is not None:
            spinner.terminate()


def _report(console: Console, history: list[Experiment], setting: str) -> None:
    """The A/A table, the false-keep rate, and whether neutral changes look biased: their
    first paired gain should centre on 0 with the spread the noise model predicts."""
    base = next(e for e in history if e.proposal.proposer == "baseline")
    if base.status is not Status.KEPT:
        console.print(f"baseline {base.status.value}: {escape(base.reason)}; nothing judged",
                      highlight=False)
    tried = [e for e in history if e.proposal.proposer == "aa"]
    table = Table(title=f"A/A: {len(tried)} neutral changes, {setting}")
    for column in ("#", "status", "seeds", "steps", "reason"):
        table.add_column(column)
    for e in tried:
        steps = [r.steps for r in e.seed_runs if r.ok]
        table.add_row(str(e.number), e.status.value, str(len(e.seed_scores)),
                      f"{min(steps)}-{max(steps)}" if steps else "-", escape(e.reason[:150]))
    console.print(table)
    kept = sum(1 for e in tried if e.status is Status.KEPT)
    starved = sum(1 for e in tried if e.status is Status.INTERFERED)
    gains = [TASK.metric.gain(e.seed_scores[s], base.seed_scores[s])
             for e in tried for s in e.seed_scores if s in base.seed_scores]
    spread = (f"neutral paired gains: mean {statistics.fmean(gains):+.4f}, sd "
              f"{statistics.stdev(gains):.4f} over {len(gains)} seed pairs"
              if len(gains) > 1 else "")
    console.print(f"false keeps {kept}/{len(tried)} = {kept / max(len(tried), 1):.0%} "
                  f"(target <= 5 %); interfered {starved}; {noise_of(history).describe()}; "
                  f"{spread}; load {os.getloadavg()[0]:.2f}", highlight=False)


if __name__ == "__main__":
    main()
