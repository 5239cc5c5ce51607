"""What mattered: each ablation (a result with some kept changes removed) against its result.

Read from the store like any view: the effect is recomputed from the stored runs, so the
report shows the same numbers as `ablate` printed, and more measurements sharpen them.
"""

from __future__ import annotations

from dataclasses import dataclass

from autoresearch.analysis.noise import noise_of
from autoresearch.analysis.paired import interval, paired
from autoresearch.metric import Metric
from autoresearch.records import Experiment, Mode, Status


@dataclass(frozen=True)
class Mattered:
    result: int  # the number of the experiment explained
    ablation: int  # the ablation experiment's number
    removed: str  # which changes were taken out
    effect: float | None  # the result minus the ablated code (positive: the changes helped)
    low: float | None  # 95 % interval of the effect
    high: float | None
    verdict: str


def verdict(status: Status, low: float, high: float) -> str:
    """What the 95 % interval [low, high] of "result minus ablated" says: mattered / no effect /
    hurt, or why there is no effect to speak of."""
    if status.failed:
        return "removing it breaks the code"
    if status is not Status.MEASURED:
        return f"not measured ({status.value})"
    if low > 0:
        return "mattered"
    return "hurt" if high < 0 else "no effect"


def what_mattered(experiments: list[Experiment], metric: Metric) -> list[Mattered]:
    by_id = {e.id: e for e in experiments}
    noise = noise_of(experiments)
    rows = []
    for ablation in experiments:
        result = by_id.get(ablation.proposal.parent_id or -1)
        if ablation.proposal.mode is not Mode.ABLATION or result is None:
            continue
        removed = ablation.proposal.description.removeprefix("without ")
        if ablation.status is not Status.MEASURED:
            rows.append(Mattered(result.number, ablation.number, removed, None, None, None,
                                 verdict(ablation.status, 0.0, 0.0)))
            continue
        pair = paired(result, ablation, metric, noise)
        low, high = interval(pair)
        rows.append(Mattered(result.number, ablation.number, removed, round(pair.mean, 6),
                             round(low, 6), round(high, 6), verdict(ablation.status, low, high)))
    return rows
