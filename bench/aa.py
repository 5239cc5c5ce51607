"""A/A test of the keep rule: how often a change that does nothing is kept, and how often a
known-good change is.

    python bench/aa.py --experiments 20 --train-seconds 3 [--busy] [--power 5]

Runs the real loop (real executor, sandboxed runs, a real store in a temporary folder) on the
shakespeare task. The A/A proposer emits candidates that change nothing the training reads
(a new module-level constant no code uses): different code, so the duplicate check lets them
run. The false-keep rate is kept / experiments (target <= 5 %). `--busy` starts a CPU-bound
process beside the runs. `--power N` then runs N fresh studies whose one candidate sets a
better learning rate (`--good-lr`) and counts how often it is kept (target >= 90 %).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import re
import tempfile
from pathlib import Path

from rich.console import Console
from rich.table import Table

from autoresearch.engine import ResearchLoop, RunSettings
from autoresearch.execution import make_executor
from autoresearch.records import Experiment, Proposal, Status
from autoresearch.sandbox import JobOptions
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
    """One candidate: the parent with a better learning rate."""

    name = "good"

    def __init__(self, lr: float) -> None:
        self.lr = lr

    def propose(self, context: ProposalContext) -> Proposal:
        code = re.sub(r"^LEARNING_RATE = [^#\n]+", f"LEARNING_RATE = {self.lr!r} ",
                      context.parent.code, flags=re.M)
        return Proposal(code=code, description=f"LEARNING_RATE = {self.lr}",
                        category="optimizer", mode=context.mode, parent_id=context.parent.id,
                        proposer=self.name)


def study(folder: Path, proposer: NeutralProposer | GoodProposer, experiments: int,
          seconds: float, max_seeds: int) -> list[Experiment]:
    data = TASK.prepare(Path.home() / ".cache" / "autoresearch", offline=True)
    store = Store(folder / "aa.db")
    record = store.study(TASK.name, TASK.metric, seconds, data.content_hash, data.source)
    executor = make_executor("local", 1)
    loop = ResearchLoop(task=TASK, data=data, store=store, study=record, proposer=proposer,
                        strategy=Strategy(TASK.metric), acceptance=Acceptance(TASK.metric),
                        executor=executor,
                        settings=RunSettings(job=JobOptions(seconds, device="cpu"),
                                             max_seeds=max_seeds))
    try:
        loop.baseline()
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
    parser.add_argument("--train-seconds", type=float, default=3.0)
    parser.add_argument("--max-seeds", type=int, default=4)
    parser.add_argument("--busy", action="store_true", help="a CPU-bound process beside")
    parser.add_argument("--power", type=int, default=0, help="repeats of the power check")
    parser.add_argument("--good-lr", type=float, default=1e-2)
    args = parser.parse_args()
    console = Console()
    spinner = multiprocessing.Process(target=_spin, daemon=True) if args.busy else None
    if spinner is not None:
        spinner.start()
    try:
        with tempfile.TemporaryDirectory(prefix="autoresearch-aa-") as tmp:
            history = study(Path(tmp), NeutralProposer(), args.experiments,
                            args.train_seconds, args.max_seeds)
        tried = [e for e in history if e.proposal.proposer == "aa"]
        table = Table(title=f"A/A: {len(tried)} neutral changes, {args.train_seconds:g}s per "
                      f"seed{', CPU-bound process beside' if args.busy else ''}")
        for column in ("#", "status", "seeds", "reason"):
            table.add_column(column)
        for e in tried:
            table.add_row(str(e.number), e.status.value, str(len(e.seed_scores)),
                          e.reason[:110])
        console.print(table)
        kept = sum(1 for e in tried if e.status is Status.KEPT)
        starved = sum(1 for e in tried if e.status is Status.INTERFERED)
        console.print(f"false keeps {kept}/{len(tried)} = {kept / max(len(tried), 1):.0%} "
                      f"(target <= 5 %); interfered {starved}; load {os.getloadavg()[0]:.2f}")
        good = []
        for i in range(args.power):
            with tempfile.TemporaryDirectory(prefix="autoresearch-power-") as tmp:
                one = study(Path(tmp), GoodProposer(args.good_lr), 1, args.train_seconds,
                            args.max_seeds)
            good.append(one[-1])
            console.print(f"power {i + 1}: {one[-1].status.value}: {one[-1].reason[:120]}")
        if good:
            hits = sum(1 for e in good if e.status is Status.KEPT)
            console.print(f"power: LEARNING_RATE={args.good_lr:g} kept {hits}/{len(good)} = "
                          f"{hits / len(good):.0%} (target >= 90 %)")
    finally:
        if spinner is not None:
            spinner.terminate()


if __name__ == "__main__":
    main()
