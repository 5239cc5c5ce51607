"""A lineage merge on real shakespeare runs: two kept branches, then their merge as the
shipped strategy proposes it, judged by the shipped keep rule.

    python bench/merge.py [--train-seconds 10] [--first BATCH_SIZE=8] [--second BLOCK_SIZE=32]
                          [--screen 0.25]

Both changes are made on the baseline (two branches, as two workers in flight at once would
make them); the second is kept only if it beats the first, the incumbent by then. The third
experiment is whatever the shipped Strategy plans next: with two kept branches that changed
different knobs, their three-way merge (mode merge), run on real seeds with screening, the
paired sequential rule and the re-measurement of a keep.
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
from collections.abc import Sequence
from pathlib import Path

from autoresearch.engine import ResearchLoop, RunSettings
from autoresearch.errors import ProposalError
from autoresearch.execution import make_executor
from autoresearch.knobs import apply_knobs, parse_knobs
from autoresearch.records import Experiment, Mode, Proposal
from autoresearch.sandbox import JobOptions
from autoresearch.sandbox.load import MAX_FOREIGN_LOAD
from autoresearch.search.acceptance import Acceptance
from autoresearch.search.offline import parse_values
from autoresearch.search.proposer import ProposalContext
from autoresearch.search.strategy import Plan, Strategy
from autoresearch.storage import Store
from autoresearch.tasks import get_task


class FromBaseline(Strategy):
    """The first two experiments build on the baseline; then the shipped strategy."""

    def plans(self, history: Sequence[Experiment], number: int, rng: random.Random,
              busy: frozenset[int], count: int) -> list[Plan]:
        if number <= 2:
            return [Plan(Mode.INCREMENTAL, history[0])]
        return [self.plan(history, number, rng, busy)]


class Edits:
    """Proposes the given knob edits, one per experiment."""

    name = "edits"

    def __init__(self, edits: list[tuple[str, object]]) -> None:
        self.edits = edits

    def propose(self, context: ProposalContext) -> Proposal:
        if not self.edits:
            raise ProposalError("no edit left: the strategy planned no merge (were both "
                                "branches kept?)")
        knob, value = self.edits.pop(0)
        code = apply_knobs(context.parent.code, parse_knobs(context.parent.code), {knob: value})
        return Proposal(code=code, description=f"{knob} = {value}", category="hyperparameter",
                        mode=context.mode, parent_id=context.parent.id, proposer=self.name,
                        knobs=parse_values(code))


def _edit(text: str) -> tuple[str, object]:
    name, value = (part.strip() for part in text.split("=", 1))
    return name, type(parse_knobs(TASK.baseline_source())[name].value)(value)


TASK = get_task("shakespeare")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train-seconds", type=float, default=10.0)
    parser.add_argument("--first", default="BATCH_SIZE=8")
    parser.add_argument("--second", default="BLOCK_SIZE=32")
    parser.add_argument("--screen", type=float, default=0.25, help="as `run`'s (0: off)")
    args = parser.parse_args()
    cache = os.environ.get("AUTORESEARCH_CACHE", str(Path.home() / ".cache" / "autoresearch"))
    data = TASK.prepare(Path(cache), offline=True)
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="autoresearch-merge-") as tmp:
        store = Store(Path(tmp) / "merge.db")
        study = store.study(TASK.name, TASK.metric, args.train_seconds, data.content_hash,
                            data.source, setup="bench/merge.py")
        executor = make_executor("local", 1)
        loop = ResearchLoop(
            task=TASK, data=data, store=store, study=study,
            proposer=Edits([_edit(args.first), _edit(args.second)]),
            strategy=FromBaseline(TASK.metric), acceptance=Acceptance(TASK.metric),
            executor=executor, settings=RunSettings(
                job=JobOptions(args.train_seconds, device="cpu",
                               max_foreign_load=MAX_FOREIGN_LOAD),
                max_seeds=4, screen=args.screen))
        try:
            loop.baseline()
            loop.run(3)
        finally:
            executor.shutdown()
        for e in loop.history():
            mean = "-" if e.metric_mean is None else f"{e.metric_mean:.4f}"
            print(f"#{e.number} {e.proposal.mode.value} {e.proposal.description}: "
                  f"{e.status.value}, {TASK.metric.name} {mean}; {e.reason}")
    print(f"{args.train_seconds:g} s per seed run; load {load:.2f} at start, "
          f"{os.getloadavg()[0]:.2f} at end")


if __name__ == "__main__":
    main()
