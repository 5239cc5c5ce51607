"""Key findings written from the data alone (no LLM): which changes helped, by how much, and
how consistently across seeds. Every sentence is plain text; the template escapes it."""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from autoresearch.analysis.study import baseline_of, best_of, by_category
from autoresearch.metric import Metric
from autoresearch.records import Experiment, Mode, Status
from autoresearch.ui.report._knobs import flat

MIN_TRIED = 2  # a knob move tried fewer times, and never kept, says nothing
MAX_HELPED, MAX_NEVER = 5, 3  # lines per category: the strongest findings, not all of them


@dataclass(frozen=True)
class SeedAgreement:
    better: int  # seeds on which the child beat its parent on that same seed
    compared: int


@dataclass(frozen=True)
class Move:
    """One kind of change to one knob (raised, lowered, set to a value) and how it fared."""

    knob: str
    change: str
    tried: int = 0
    kept: int = 0
    alongside: int = 0  # kept while other knobs changed too: the credit is shared
    gains: tuple[float, ...] = ()  # over the parent, when kept
    agreement: SeedAgreement = SeedAgreement(0, 0)


@dataclass(frozen=True)
class CategoryInsights:
    category: str
    lines: list[str] = field(default_factory=list)


def seed_agreement(child: Experiment, parent: Experiment, metric: Metric) -> SeedAgreement:
    parent_runs = {r.seed: r.metric for r in parent.seed_runs if r.ok}
    pairs = [(r.metric, parent_runs[r.seed]) for r in child.seed_runs
             if r.ok and r.metric is not None and r.seed in parent_runs]
    return SeedAgreement(sum(metric.is_better(c, p) for c, p in pairs if p is not None),
                         len(pairs))


def _change(old: Any, new: Any) -> str:
    numeric = all(isinstance(v, int | float) and not isinstance(v, bool) for v in (old, new))
    if numeric:
        return "raising" if new > old else "lowering"
    return f"setting to {new!r}"


def moves(experiments: list[Experiment], metric: Metric,
          knob_categories: dict[str, str]) -> dict[str, list[Move]]:
    """Knob moves by the knob's category (the experiment's when the knob declares none),
    from each experiment's knobs against its parent's."""
    by_id = {e.id: e for e in experiments}
    found: dict[tuple[str, str, str], Move] = {}
    for e in experiments:
        parent = by_id.get(e.proposal.parent_id or -1)
        if e.proposal.mode is Mode.BASELINE or parent is None or not e.status.finished:
            continue
        kept = e.status is Status.KEPT
        gain = None
        if kept and e.metric_mean is not None and parent.metric_mean is not None:
            gain = metric.gain(e.metric_mean, parent.metric_mean)
        agree = seed_agreement(e, parent, metric) if kept else SeedAgreement(0, 0)
        old, new = flat(parent.proposal.knobs), flat(e.proposal.knobs)
        changed = [k for k, v in new.items() if k in old and old[k] != v]
        for knob in changed:
            change = _change(old[knob], new[knob])
            key = (knob_categories.get(knob, e.proposal.category), knob, change)
            m = found.get(key, Move(knob, change))
            found[key] = Move(
                knob, change, m.tried + 1, m.kept + kept,
                m.alongside + (kept and len(changed) > 1),
                m.gains + ((gain,) if gain is not None else ()),
                SeedAgreement(m.agreement.better + agree.better,
                              m.agreement.compared + agree.compared))
    grouped: dict[str, list[Move]] = {}
    for (category, _, _), move in found.items():
        grouped.setdefault(category, []).append(move)
    return grouped


def _fmt(value: float) -> str:
    return f"{value:+.4f}"


def _move_line(move: Move, unit: str) -> str | None:
    if move.kept:
        seeds = ""
        if move.agreement.compared:
            seeds = (f"; better than the parent on {move.agreement.better} of "
                     f"{move.agreement.compared} seeds")
        mean = f", mean gain {_fmt(statistics.fmean(move.gains))} {unit}" if move.gains else ""
        shared = (f" ({move.alongside} of them together with other changes)"
                  if move.alongside else "")
        return (f"{move.change.capitalize()} {move.knob} was kept in {move.kept} of "
                f"{move.tried} tries{shared}{mean}{seeds}.")
    if move.tried >= MIN_TRIED:
        return f"{move.change.capitalize()} {move.knob} never helped ({move.tried} tries)."
    return None


def _best_change(category: str, experiments: list[Experiment],
                 metric: Metric) -> str | None:
    by_id = {e.id: e for e in experiments}
    candidates = []
    for e in experiments:
        parent = by_id.get(e.proposal.parent_id or -1)
        if e.proposal.category != category or e.status is not Status.KEPT or parent is None \
                or e.metric_mean is None or parent.metric_mean is None:
            continue
        candidates.append((metric.gain(e.metric_mean, parent.metric_mean), e, parent))
    if not candidates:
        return None
    gain, e, parent = max(candidates, key=lambda c: c[0])
    agree = seed_agreement(e, parent, metric)
    seeds = f", better on {agree.better} of {agree.compared} seeds" if agree.compared else ""
    return (f"Largest single gain: #{e.number} \u201c{e.proposal.description}\u201d, "
            f"{_fmt(gain)} {metric.name} over its parent #{parent.number}{seeds}.")


def by_category_insights(experiments: list[Experiment], metric: Metric,
                         knob_categories: dict[str, str]) -> list[CategoryInsights]:
    found = moves(experiments, metric, knob_categories)
    stats = {s.category: s for s in by_category(experiments, metric)}
    result = []
    for category in [*stats, *(c for c in found if c not in stats)]:
        lines = []
        if category in stats:
            row = stats[category]
            lines.append(f"{row.kept} of {row.tried} experiments kept"
                         + (f", mean gain {_fmt(row.mean_gain)} {metric.name} over the parent."
                            if row.mean_gain is not None else "."))
            best = _best_change(category, experiments, metric)
            if best:
                lines.append(best)
        ranked = sorted(found.get(category, []),
                        key=lambda m: (-m.kept, -(statistics.fmean(m.gains) if m.gains else 0),
                                       -m.tried, m.knob))
        helped = [m for m in ranked if m.kept][:MAX_HELPED]
        never = sorted((m for m in ranked if not m.kept and m.tried >= MIN_TRIED),
                       key=lambda m: (-m.tried, m.knob))[:MAX_NEVER]
        lines += [line for m in helped + never if (line := _move_line(m, metric.name))]
        failed = Counter(e.failure.value for e in experiments
                         if e.proposal.category == category and e.failure is not None)
        if failed:
            kind, count = failed.most_common(1)[0]
            lines.append(f"{sum(failed.values())} failed, most often {kind} ({count}).")
        if lines:
            result.append(CategoryInsights(category, lines))
    return result


def overall(experiments: list[Experiment], metric: Metric) -> list[str]:
    """Study-wide findings: the headline gain, whether it held on the sealed test, failures."""
    lines: list[str] = []
    baseline, best = baseline_of(experiments), best_of(experiments, metric)
    others = [e for e in experiments if e.proposal.mode is not Mode.BASELINE]
    if baseline is not None and best is not None and best is not baseline \
            and baseline.metric_mean is not None and best.metric_mean is not None:
        gain = metric.gain(best.metric_mean, baseline.metric_mean)
        lines.append(f"The best experiment, #{best.number}, improves {metric.name} by "
                     f"{_fmt(gain)} over the baseline ({baseline.metric_mean:.4f} \u2192 "
                     f"{best.metric_mean:.4f}).")
        if baseline.test_mean is not None and best.test_mean is not None:
            test_gain = metric.gain(best.test_mean, baseline.test_mean)
            held = "held" if test_gain > 0 else "did not hold"
            lines.append(f"On the sealed test split, which the search never saw, the gain "
                         f"{held}: {_fmt(test_gain)} ({baseline.test_mean:.4f} \u2192 "
                         f"{best.test_mean:.4f}).")
    elif baseline is not None and baseline.failure is not None:
        lines.append(f"The baseline failed ({baseline.failure.value}: {baseline.reason}), so "
                     "no gain can be measured; fix it before reading anything else here.")
    elif others:
        lines.append(f"No experiment beat the baseline in {len(others)} tries.")
    failed = [e for e in others if e.failure is not None]
    if failed:
        kind, count = Counter(e.failure.value for e in failed
                              if e.failure is not None).most_common(1)[0]
        lines.append(f"{len(failed)} of {len(others)} experiments failed "
                     f"({len(failed) / len(others):.0%}), most often {kind} ({count}).")
    spreads = [e.metric_std for e in experiments
               if e.status is Status.KEPT and e.metric_std is not None]
    if spreads:
        lines.append(f"Seed noise: the standard deviation across seeds of kept experiments is "
                     f"{statistics.median(spreads):.4f} {metric.name} (median), so gains "
                     "smaller than that deserve more seeds.")
    return lines
