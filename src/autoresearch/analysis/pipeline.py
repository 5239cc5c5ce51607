"""Views of a pipeline study derived from its experiments (nothing here is stored).

Shared by the coordinator (what to skip, what to combine), `status`, the dashboard and the
report. Each function takes the study's experiments and its Metric, ignores experiments that
are not combos (script tasks get empty lists), and returns plain lists of frozen records.
Every comparison is direction-aware through `Metric`; margins are additive in metric units.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from dataclasses import dataclass

from autoresearch.analysis.combo import Combo, combo_of
from autoresearch.metric import Metric
from autoresearch.records import Experiment, Mode, Status

CRASH_LIMIT = 3  # an implementation blamed for this many failed combos is skipped


@dataclass(frozen=True)
class SlotRanking:
    slot: str
    implementation: str
    family: str
    rank: int  # 1 = best within its slot
    tried: int
    failed: int
    best: float | None  # best CV mean among the combos that used it
    mean: float | None  # mean of those combos' CV means
    best_experiment: int | None  # number of that best combo


@dataclass(frozen=True)
class Interaction:
    experiment: int  # the combo holding both changes
    base: int  # the reference combo
    parts: tuple[int, int]  # the combos holding each change alone
    changes: tuple[str, str]  # "slot=component" of each change
    predicted_gain: float  # sum of the parts' gains over the base
    actual_gain: float  # the combo's gain over the base
    delta: float  # actual - predicted; positive = the parts help each other
    kind: str  # superadditive, subadditive or additive (|delta| within the noise)


@dataclass(frozen=True)
class Pruned:
    kind: str  # family, implementation or crashes
    slot: str
    name: str  # the family or the implementation
    reason: str


@dataclass(frozen=True)
class _Measured:
    experiment: Experiment
    combo: Combo
    mean: float


def _measured(experiments: list[Experiment]) -> list[_Measured]:
    found = []
    for e in experiments:
        combo = combo_of(e)
        mean = e.metric_mean
        if combo is not None and mean is not None and math.isfinite(mean) \
                and not e.status.failed and e.status.finished:
            found.append(_Measured(e, combo, mean))
    return found


def _combos(experiments: list[Experiment]) -> list[tuple[Experiment, Combo]]:
    return [(e, c) for e in experiments if (c := combo_of(e)) is not None]


def slot_rankings(experiments: list[Experiment], metric: Metric) -> list[SlotRanking]:
    """Per slot, every implementation tried, best first (by the best combo that used it)."""
    tried: dict[tuple[str, str], list[Experiment]] = defaultdict(list)
    family: dict[tuple[str, str], str] = {}
    slots: list[str] = []
    for e, combo in _combos(experiments):
        for slot, impl in combo.slots.items():
            if slot not in slots:
                slots.append(slot)
            tried[(slot, impl)].append(e)
            family[(slot, impl)] = combo.families.get(slot, impl)
    rows: list[SlotRanking] = []
    for slot in slots:
        entries = []
        for (s, impl), runs in tried.items():
            if s != slot:
                continue
            scored = [e for e in runs if e.metric_mean is not None and not e.status.failed
                      and e.status.finished]
            best = min(scored, key=lambda e: metric.sort_key(e.metric_mean), default=None)
            entries.append((impl, runs, scored, best))
        entries.sort(key=lambda t: (metric.sort_key(t[3].metric_mean if t[3] else None), t[0]))
        for rank, (impl, runs, scored, best) in enumerate(entries, start=1):
            rows.append(SlotRanking(
                slot=slot, implementation=impl, family=family[(slot, impl)], rank=rank,
                tried=len(runs), failed=sum(1 for e in runs if e.status.failed),
                best=best.metric_mean if best else None,
                mean=statistics.fmean(e.metric_mean for e in scored  # type: ignore[misc]
                                      ) if scored else None,
                best_experiment=best.number if best else None))
    return rows


def interactions(experiments: list[Experiment], metric: Metric,
                 tolerance: float | None = None) -> list[Interaction]:
    """Two-change combos whose changes were measured alone, earlier, on the same base.

    predicted = gain(base+A) + gain(base+B); actual = gain(base+A+B); gains are
    direction-aware (positive = better). `tolerance` (metric units) defaults to the largest
    repeat-to-repeat standard deviation among the four combos: smaller deltas are "additive".
    """
    measured = _measured(experiments)
    by_key = {m.combo.key: m for m in measured}
    found: list[Interaction] = []
    for both in measured:
        for base in measured:
            if base.experiment.number >= both.experiment.number:
                continue  # each pair once: the combo is judged against an earlier base
            diff = both.combo.differences(base.combo)
            if len(diff) != 2 or set(both.combo.slots) != set(base.combo.slots):
                continue
            parts = []
            for slot in diff:
                single = base.combo.replace(slot, both.combo.slots[slot],
                                            both.combo.params.get(slot),
                                            both.combo.families.get(slot))
                parts.append(by_key.get(single.key))
            if parts[0] is None or parts[1] is None or max(
                    parts[0].experiment.number, parts[1].experiment.number
            ) > both.experiment.number:
                continue  # the parts must have been measured before the combo
            a, b = parts[0], parts[1]
            predicted = metric.gain(a.mean, base.mean) + metric.gain(b.mean, base.mean)
            actual = metric.gain(both.mean, base.mean)
            delta = actual - predicted
            noise = tolerance if tolerance is not None else max(
                (m.experiment.metric_std or 0.0) for m in (both, base, a, b))
            kind = "additive" if abs(delta) <= noise else (
                "superadditive" if delta > 0 else "subadditive")
            found.append(Interaction(
                experiment=both.experiment.number, base=base.experiment.number,
                parts=(a.experiment.number, b.experiment.number),
                changes=(f"{diff[0]}={both.combo.component(diff[0])}",
                         f"{diff[1]}={both.combo.component(diff[1])}"),
                predicted_gain=predicted, actual_gain=actual, delta=delta, kind=kind))
    found.sort(key=lambda i: (-i.delta, i.experiment, i.base))
    return found


def default_margin(experiments: list[Experiment], metric: Metric,
                   slot: str | None = None) -> float:
    """How far behind the best a family may be before it is killed, in metric units: three
    standard errors of the best combo's CV mean (from its fold scores), and at least half the
    median gap between the best and the families of `slot` (families seen once, untuned,
    need slack)."""
    measured = _measured(experiments)
    if not measured:
        return 0.0
    best = min(measured, key=lambda m: metric.sort_key(m.mean))
    folds = [float(v) for r in best.experiment.seed_runs if r.ok for v in r.extra.get("folds", ())]
    if len(folds) > 1:
        noise = 3 * statistics.stdev(folds) / math.sqrt(len(folds))
    else:
        runs = max(1, len(best.experiment.scores))
        noise = 3 * (best.experiment.metric_std or 0.0) / math.sqrt(runs)
    family_best: dict[tuple[str, str], float] = {}
    for m in measured:
        for s in m.combo.slots:
            key = (s, m.combo.families.get(s, m.combo.slots[s]))
            if (slot is None or s == slot) and (
                    key not in family_best or metric.is_better(m.mean, family_best[key])):
                family_best[key] = m.mean
    gaps = [metric.gain(best.mean, v) for v in family_best.values()]
    return max(noise, 0.5 * statistics.median(gaps)) if gaps else noise


def pruned(experiments: list[Experiment], metric: Metric, margin: float | None = None,
           model_slot: str | None = None) -> list[Pruned]:
    """Model families that lose by more than `margin` (default: see default_margin),
    dominated implementations within surviving families (any slot), and implementations blamed
    for CRASH_LIMIT failed combos, each with the reason. `model_slot` defaults to the last slot
    of the combos (build_model for tabular tasks)."""
    measured = _measured(experiments)
    out: list[Pruned] = []
    if measured:
        best = min(measured, key=lambda m: metric.sort_key(m.mean))
        slot = model_slot or list(best.combo.slots)[-1]
        limit = default_margin(experiments, metric, slot) if margin is None else margin
        dead = _dead_families(measured, metric, best, slot, limit)
        out += dead
        killed = {(p.slot, p.name) for p in dead}
        out += _dominated(measured, metric, best, killed)
    out += _crashers(experiments)
    return out


def _dead_families(measured: list[_Measured], metric: Metric, best: _Measured, slot: str,
                   margin: float) -> list[Pruned]:
    family_best: dict[str, _Measured] = {}
    for m in measured:
        if slot not in m.combo.slots:
            continue
        key = m.combo.families.get(slot, m.combo.slots[slot])
        if key not in family_best or metric.is_better(m.mean, family_best[key].mean):
            family_best[key] = m
    out = []
    for fam, m in sorted(family_best.items()):
        loss = metric.gain(best.mean, m.mean)
        if loss > margin:
            out.append(Pruned("family", slot, fam,
                              f"best {metric.name}={m.mean:.4f} (#{m.experiment.number}) is "
                              f"{loss:.4f} behind the best {best.mean:.4f} "
                              f"(#{best.experiment.number}), margin {margin:.4f}"))
    return out


def _dominated(measured: list[_Measured], metric: Metric, best: _Measured,
               killed: set[tuple[str, str]]) -> list[Pruned]:
    """Within a family, A is dominated by B when B beats A in every context both were tried in
    (context = the implementations of the other slots)."""
    scores: dict[tuple[str, str, tuple[tuple[str, str], ...]], float] = {}
    family: dict[tuple[str, str], str] = {}
    for m in measured:
        for slot, impl in m.combo.slots.items():
            context = tuple(sorted((s, i) for s, i in m.combo.slots.items() if s != slot))
            key = (slot, impl, context)
            if key not in scores or metric.is_better(m.mean, scores[key]):
                scores[key] = m.mean
            family[(slot, impl)] = m.combo.families.get(slot, impl)
    out = []
    for (slot, a), fam in sorted(family.items()):
        if (slot, fam) in killed or best.combo.slots.get(slot) == a:
            continue
        contexts_a = {c: v for (s, i, c), v in scores.items() if s == slot and i == a}
        for (slot_b, b), fam_b in sorted(family.items()):
            if slot_b != slot or b == a or fam_b != fam:
                continue
            shared = [(v, scores[(slot, b, c)]) for c, v in contexts_a.items()
                      if (slot, b, c) in scores]
            if shared and all(metric.is_better(vb, va) for va, vb in shared):
                out.append(Pruned("implementation", slot, a,
                                  f"dominated by {b} (same family {fam}) in all "
                                  f"{len(shared)} shared context(s)"))
                break
    return out


def _crashers(experiments: list[Experiment]) -> list[Pruned]:
    """Blame each failed combo on one implementation: the slot the failure was raised in when
    the run says so, else the implementation with the lowest success rate in that combo (the
    most tried first: more evidence against it)."""
    combos = _combos(experiments)
    tries: dict[tuple[str, str], int] = defaultdict(int)
    wins: dict[tuple[str, str], int] = defaultdict(int)
    for e, combo in combos:
        for slot, impl in combo.slots.items():
            tries[(slot, impl)] += 1
            wins[(slot, impl)] += int(e.status is Status.KEPT or e.status is Status.DISCARDED)
    blamed: dict[tuple[str, str], list[str]] = defaultdict(list)
    for e, combo in combos:
        if not e.status.failed:
            continue
        slot = next((r.extra.get("slot") for r in e.seed_runs if r.extra.get("slot")), None)
        if slot not in combo.slots:
            slot = min(combo.slots, key=lambda s: (wins[(s, combo.slots[s])]
                                                   / tries[(s, combo.slots[s])],
                                                   -tries[(s, combo.slots[s])], s))
        kind = e.failure.value if e.failure else e.status.value
        blamed[(slot, combo.slots[slot])].append(f"#{e.number} {kind}")
    return [Pruned("crashes", slot, impl, f"failed {len(why)} times: {', '.join(why[:5])}")
            for (slot, impl), why in sorted(blamed.items()) if len(why) >= CRASH_LIMIT]


@dataclass(frozen=True)
class SlotSource:
    """Where a slot's baseline code came from, when the study started from a user's file."""

    slot: str
    source: str


def user_split(experiments: list[Experiment], metric: Metric) -> list[SlotSource]:
    """How the user's pipeline file was split into slots (recorded with the baseline)."""
    base = next((e for e in experiments if e.proposal.mode is Mode.BASELINE), None)
    split = base.proposal.knobs.get("split") if base else None
    return [SlotSource(str(slot), str(source)) for slot, source in split or ()]
