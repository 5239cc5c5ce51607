"""Facts about a finished experiment worth a line next to its verdict (they never change it).

- Every seed gave the same metric, bit for bit: the script ignores the seed it is given (a
  fixed `torch.manual_seed(1337)`), so its seeds measure nothing and cost time.
- The metric is bit-identical to the parent's on every shared seed: the change had no effect
  (a knob overridden later by the script, dead code), which no noise would produce.
"""

from __future__ import annotations

from autoresearch.records import Experiment, SeedRun

SEED_IGNORED = "every seed gave the same {metric} bit for bit: the script ignores its seed"
NO_EFFECT = "bit-identical to #{parent} on every seed: the change had no effect"


def seed_ignored(runs: list[SeedRun] | tuple[SeedRun, ...]) -> bool:
    scores = [r.metric for r in runs if r.ok]
    return len(scores) >= 2 and len(set(scores)) == 1


def no_effect(runs: list[SeedRun], parent: Experiment | None) -> bool:
    if parent is None:
        return False
    before = {r.seed: r.metric for r in parent.seed_runs if r.ok}
    shared = [r for r in runs if r.ok and r.seed in before]
    return bool(shared) and all(r.metric == before[r.seed] for r in shared)


def notes(runs: list[SeedRun], parent: Experiment | None, metric: str) -> list[str]:
    found = []
    if no_effect(runs, parent):
        assert parent is not None
        found.append(NO_EFFECT.format(parent=parent.number))
    elif seed_ignored(runs):
        found.append(SEED_IGNORED.format(metric=metric))
    return found
