"""The four ways a round proposes combos, each fed by every result so far.

EXPLORE  coverage: at least one combo per family cell of the coverage slots (e.g. model family
         x encoding), then random combos.
EXPLOIT  the winning region (the best combo's families): a grid when it holds at most 20
         variants, Optuna TPE fitted on the region's history when larger.
COMBINE  crossovers of near-miss pairs, the pairs whose parts interact best first.
NARROW   small steps of the best combos' parameters, or a sibling in the same family.
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from autoresearch.analysis.combo import Combo, combo_of
from autoresearch.analysis.pipeline import Pruned, default_margin, interactions
from autoresearch.metric import Direction, Metric
from autoresearch.pipeline.space import Implementation, SearchSpace
from autoresearch.records import Experiment, Mode

if TYPE_CHECKING:
    import optuna

GRID_LIMIT = 20  # more variants than this in the winning region: TPE instead of a grid
NEAR_MISSES = 6


@dataclass(frozen=True)
class Candidate:
    combo: Combo
    parent: Experiment | None
    hypothesis: str


@dataclass(frozen=True)
class Skips:
    """What pruning took out of the space."""

    families: frozenset[tuple[str, str]] = frozenset()
    implementations: frozenset[tuple[str, str]] = frozenset()

    @classmethod
    def of(cls, items: list[Pruned]) -> Skips:
        return cls(frozenset((p.slot, p.name) for p in items if p.kind == "family"),
                   frozenset((p.slot, p.name) for p in items if p.kind != "family"))

    def allows(self, impl: Implementation) -> bool:
        return (impl.slot, impl.family_name) not in self.families \
            and (impl.slot, impl.name) not in self.implementations

    def allows_combo(self, combo: Combo) -> bool:
        return all((s, combo.families.get(s, i)) not in self.families
                   and (s, i) not in self.implementations for s, i in combo.slots.items())


class Planner:
    def __init__(self, space: SearchSpace, metric: Metric, rng: random.Random) -> None:
        self.space, self.metric, self.rng = space, metric, rng

    def plan(self, mode: Mode, history: list[Experiment], n: int, skips: Skips,
             seen: set[str]) -> list[Candidate]:
        method = {Mode.EXPLORE: self.explore, Mode.EXPLOIT: self.exploit,
                  Mode.COMBINE: self.combine, Mode.NARROW: self.narrow}[mode]
        out: list[Candidate] = []
        for candidate in method(history, skips):
            key = candidate.combo.key
            if key in seen or not skips.allows_combo(candidate.combo):
                continue
            seen.add(key)
            out.append(candidate)
            if len(out) >= n:
                break
        return out

    # -- helpers ------------------------------------------------------------------------
    def _ranked(self, history: list[Experiment]) -> list[tuple[Experiment, Combo]]:
        scored = [(e, c) for e in history if (c := combo_of(e)) is not None
                  and e.metric_mean is not None and not e.status.failed and e.status.finished]
        return sorted(scored, key=lambda t: (self.metric.sort_key(t[0].metric_mean), t[0].number))

    def _best(self, history: list[Experiment]) -> tuple[Experiment | None, Combo]:
        ranked = self._ranked(history)
        return ranked[0] if ranked else (None, self.space.default_combo())

    def _allowed(self, slot: str, skips: Skips) -> list[Implementation]:
        return [i for i in self.space.of(slot) if skips.allows(i)]

    def _with(self, combo: Combo, impl: Implementation, params: dict[str, Any] | None = None
              ) -> Combo:
        return combo.replace(impl.slot, impl.name, params if params is not None
                             else impl.defaults(), impl.family_name, impl.code or None)

    # -- EXPLORE ------------------------------------------------------------------------
    def coverage_gaps(self, history: list[Experiment], skips: Skips) -> list[tuple[str, ...]]:
        slots = self.space.coverage
        covered = {tuple(c.families.get(s, c.slots.get(s, "")) for s in slots)
                   for e in history if (c := combo_of(e)) is not None}
        families = [[f for f in self.space.families(s) if (s, f) not in skips.families]
                    for s in slots]
        _, base = self._best(history)
        cells = [cell for cell in itertools.product(*families) if cell not in covered]
        # The model slot's first implementation of each family (the one EXPLORE measures).
        models = {i.family_name: i for i in reversed(self.space.of(slots[-1] if slots else ""))}

        def distance(cell: tuple[str, ...]) -> int:
            pairs = models[cell[-1]].pairs if cell[-1] in models else {}
            return sum(cell[i] != pairs.get(s, base.families.get(s))
                       for i, s in enumerate(slots[:-1]))

        # The base's family in the earlier slots (or the one the model pairs with) first, so
        # every model family gets seen early; among those, a leading family first, then cheap
        # ones (a first good score comes sooner).
        return sorted(cells, key=lambda cell: (distance(cell), *(
            (not models[cell[-1]].lead, models[cell[-1]].cost) if cell[-1] in models
            else (True, 1.0))))

    def explore(self, history: list[Experiment], skips: Skips) -> Iterator[Candidate]:
        parent, base = self._best(history)
        for cell in self.coverage_gaps(history, skips):
            combo = base
            for slot, family in zip(self.space.coverage, cell, strict=True):
                impl = next((i for i in self._allowed(slot, skips) if i.family_name == family),
                            None)
                if impl is None:
                    break
                combo = self._with(combo, impl)
            else:
                yield Candidate(combo, parent, f"coverage: {' x '.join(cell)} not measured yet")
        for _ in range(200):
            combo = base
            for slot in self.space.slots:
                choices = self._allowed(slot, skips)
                if choices:
                    combo = self._with(combo, self.rng.choice(choices))
            yield Candidate(combo, parent, "a random combo of surviving implementations")

    # -- EXPLOIT ------------------------------------------------------------------------
    def region(self, history: list[Experiment], best: Combo, skips: Skips
               ) -> dict[str, list[Implementation]]:
        """In the coverage slots, the families whose best is within the slot's margin of the
        best combo (the winning region); every surviving implementation elsewhere."""
        ranked = self._ranked(history)
        top = ranked[0][0].metric_mean if ranked else None
        out = {}
        for slot in self.space.slots:
            allowed = self._allowed(slot, skips)
            if slot in self.space.coverage:
                families = {best.families.get(slot, best.slots.get(slot))}
                if top is not None:
                    margin = default_margin(history, self.metric, slot)
                    families |= {c.families.get(slot, c.slots.get(slot)) for e, c in ranked
                                 if self.metric.gain(top, e.metric_mean or 0.0) <= margin}
                allowed = [i for i in allowed if i.family_name in families] or allowed
            out[slot] = allowed
        return out

    def exploit(self, history: list[Experiment], skips: Skips) -> Iterator[Candidate]:
        parent, best = self._best(history)
        region = self.region(history, best, skips)
        size = math.prod(sum(len(list(i.variants())) for i in impls) for impls in region.values())
        if size <= GRID_LIMIT:
            variants = [self._grid_combo(best, choice) for choice in itertools.product(
                *([(i, v) for i in impls for v in i.variants()] for impls in region.values()))]
            variants.sort(key=lambda c: (len(c.differences(best)), c.key))
            for combo in variants:
                yield Candidate(combo, parent, f"grid over the winning region ({size} variants)")
            return
        study = self._tpe(history, region)
        for _ in range(100):
            trial = study.ask()
            combo = best
            for slot, impls in region.items():
                names = [i.name for i in impls]
                name = trial.suggest_categorical(slot, names) if len(names) > 1 else names[0]
                impl = next(i for i in impls if i.name == name)
                params = {p.name: _suggest(trial, f"{slot}.{name}.{p.name}", p)
                          for p in impl.params}
                combo = self._with(combo, impl, params)
            yield Candidate(combo, parent, f"TPE over the winning region ({size} variants)")

    def _grid_combo(self, best: Combo, choice: tuple[tuple[Implementation, dict], ...]) -> Combo:
        combo = best
        for impl, params in choice:
            combo = self._with(combo, impl, params)
        return combo

    def _tpe(self, history: list[Experiment], region: dict[str, list[Implementation]]
             ) -> optuna.Study:
        # Imported here: Optuna costs 0.15 s of start-up, on the path to the first fits, and
        # only EXPLOIT's larger regions use it.
        import optuna
        from optuna.trial import create_trial

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        direction = "minimize" if self.metric.direction is Direction.MIN else "maximize"
        sampler = optuna.samplers.TPESampler(seed=self.rng.randrange(2**31), n_startup_trials=5,
                                             constant_liar=True)
        study = optuna.create_study(direction=direction, sampler=sampler)
        for e, combo in self._ranked(history):
            params: dict[str, Any] = {}
            dists: dict[str, optuna.distributions.BaseDistribution] = {}
            for slot, impls in region.items():
                impl = next((i for i in impls if i.name == combo.slots.get(slot)), None)
                if impl is None:
                    break
                if len(impls) > 1:
                    params[slot] = impl.name
                    dists[slot] = optuna.distributions.CategoricalDistribution(
                        [i.name for i in impls])
                for p in impl.params:
                    name = f"{slot}.{impl.name}.{p.name}"
                    params[name] = combo.params_of(slot).get(p.name, p.default)
                    dists[name] = p.distribution()
            else:
                try:
                    study.add_trial(create_trial(params=params, distributions=dists,
                                                 value=e.metric_mean))
                except ValueError:  # a value outside today's ranges: TPE does without it
                    continue
        return study

    # -- COMBINE ------------------------------------------------------------------------
    def combine(self, history: list[Experiment], skips: Skips) -> Iterator[Candidate]:
        """Near misses are measured changes of the best; a pair's changes are merged into the
        best (or, when they overlap, one's slot is crossed into the other). Pairs whose parts
        are known to interact well come first."""
        near = self._ranked(history)[:NEAR_MISSES]
        if not near:
            return
        best_e, best = near[0]
        signals = interactions(history, self.metric)
        scored = []
        for (i, (ep, p)), (j, (eq, q)) in itertools.permutations(enumerate(near), 2):
            children = []
            if i and j and i < j:
                merged = best
                for source in (p, q):
                    for slot in source.differences(best):
                        if slot in source.slots:
                            merged = merged.replace(slot, source.slots[slot],
                                                    source.params.get(slot),
                                                    source.families.get(slot),
                                                    source.sources.get(slot))
                children.append((merged, best_e, f"best #{best_e.number} with the changes of "
                                                 f"near misses #{ep.number} and #{eq.number}"))
            for slot in p.differences(q):
                if slot in q.slots:
                    child = p.replace(slot, q.slots[slot], q.params.get(slot),
                                      q.families.get(slot), q.sources.get(slot))
                    children.append((child, ep, f"#{ep.number} with {slot} of near miss "
                                                f"#{eq.number}"))
            for child, parent, note in children:
                parts = {f"{s}={child.component(s)}" for s in child.slots}
                signal = sum(x.delta for x in signals if set(x.changes) <= parts)
                scored.append((-signal, i + j, child.key, child, parent, note))
        scored.sort(key=lambda t: t[:3])
        for neg, _, _, child, parent, note in scored:
            yield Candidate(child, parent, note + (f" (interaction signal {-neg:+.4f})"
                                                   if neg else ""))

    # -- NARROW -------------------------------------------------------------------------
    def narrow(self, history: list[Experiment], skips: Skips) -> Iterator[Candidate]:
        ranked = self._ranked(history)[:3] or [(None, self.space.default_combo())]
        model = self.space.model_slot
        for _ in range(200):
            parent, combo = ranked[0] if self.rng.random() < 0.7 else self.rng.choice(ranked)
            slots = [s for s in combo.slots if (i := self.space.get(s, combo.slots[s]))
                     is not None and i.params]
            if not slots:
                break
            slot = model if model in slots and self.rng.random() < 0.7 \
                else self.rng.choice(slots)
            impl = self.space.get(slot, combo.slots[slot])
            assert impl is not None
            params = {**impl.defaults(), **combo.params_of(slot)}
            for p in self.rng.sample(impl.params, k=min(len(impl.params),
                                                        self.rng.choice((1, 1, 2)))):
                params[p.name] = p.local(params[p.name], self.rng)
            yield Candidate(self._with(combo, impl, params), parent,
                            f"a small step of {slot}'s parameters from the best")


def _suggest(trial: optuna.Trial, name: str, param: Any) -> Any:
    if param.kind == "choice":
        return trial.suggest_categorical(name, list(param.choices))
    if param.kind == "int":
        return trial.suggest_int(name, int(param.low), int(param.high))
    value = trial.suggest_float(name, param.low, param.high, log=param.kind == "log")
    return float(f"{value:.4g}")
