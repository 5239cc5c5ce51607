"""The search space of a pipeline task: slots, their implementations and their parameters."""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from autoresearch.analysis.combo import Combo
from autoresearch.errors import UsageError

if TYPE_CHECKING:
    import optuna.distributions as od

KINDS = ("log", "float", "int", "choice")


@dataclass(frozen=True)
class Param:
    name: str
    kind: str
    default: Any
    low: float | None = None
    high: float | None = None
    choices: tuple[Any, ...] = ()

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise UsageError(f"parameter {self.name}: kind must be one of {KINDS}, "
                             f"got {self.kind!r}")
        if self.kind == "choice" and len(self.choices) < 2:
            raise UsageError(f"parameter {self.name}: 'choice' needs at least two choices")
        if self.kind != "choice" and (self.low is None or self.high is None
                                      or not self.low < self.high):
            raise UsageError(f"parameter {self.name}: needs low < high")

    def distribution(self) -> od.BaseDistribution:
        import optuna.distributions as od  # 0.15 s: only TPE needs it (see modes.py)

        if self.kind == "choice":
            return od.CategoricalDistribution(self.choices)
        if self.kind == "int":
            return od.IntDistribution(int(self.low), int(self.high))  # type: ignore[arg-type]
        return od.FloatDistribution(self.low, self.high,  # type: ignore[arg-type]
                                    log=self.kind == "log")

    def grid(self) -> tuple[Any, ...]:
        """A few representative values: the choices, or low / default / high."""
        if self.kind == "choice":
            return self.choices
        values = [self.low, self.default, self.high]
        if self.kind == "int":
            values = [int(v) for v in values]  # type: ignore[arg-type]
        return tuple(dict.fromkeys(values))

    def local(self, value: Any, rng: random.Random) -> Any:
        """A neighbour of `value`: a factor of ~1.5 on log scales, the next choice, a step."""
        if self.kind == "choice":
            if value not in self.choices:
                return rng.choice(self.choices)
            i = self.choices.index(value)
            near = [self.choices[j] for j in (i - 1, i + 1) if 0 <= j < len(self.choices)]
            return rng.choice(near)
        low, high = float(self.low), float(self.high)  # type: ignore[arg-type]
        if self.kind == "log":
            stepped = float(value) * math.exp(rng.choice((-1, 1)) * rng.uniform(0.2, 0.6))
        else:
            stepped = float(value) + rng.choice((-1, 1)) * (high - low) * rng.uniform(0.05, 0.2)
        stepped = min(high, max(low, stepped))
        if self.kind == "int":
            moved = round(stepped)
            if moved == value:
                moved = int(min(high, max(low, value + rng.choice((-1, 1)))))
            return int(moved)
        return float(f"{stepped:.4g}")


@dataclass(frozen=True)
class Implementation:
    """One way to fill a slot. `family` groups variants (pruning, coverage)."""

    slot: str
    name: str
    family: str = ""
    params: tuple[Param, ...] = ()
    description: str = ""
    template: str = ""  # package template that renders it (built-in catalogs)
    context: Mapping[str, Any] = field(default_factory=dict)  # fixed template values
    code: str = ""  # source of the slot function, for implementations proposed at run time
    cost: float = 1.0  # relative time of a fit: the search tries cheap families first
    # Strong on most tables for its cost (gradient-boosted trees, in published benchmarks of
    # tabular learners): EXPLORE measures it before the cheap-first order.
    lead: bool = False
    # {slot: family} it is first measured with, in place of the base combo's (trees split
    # ordinal codes as well as one-hot columns, at a fraction of the cost).
    pairs: Mapping[str, str] = field(default_factory=dict)

    @property
    def family_name(self) -> str:
        return self.family or self.name

    def defaults(self) -> dict[str, Any]:
        return {p.name: p.default for p in self.params}

    def param(self, name: str) -> Param:
        return next(p for p in self.params if p.name == name)

    def variants(self) -> Iterator[dict[str, Any]]:
        """The grid of this implementation's parameters."""
        names = [p.name for p in self.params]
        for values in itertools.product(*(p.grid() for p in self.params)):
            yield dict(zip(names, values, strict=True))


@dataclass(frozen=True)
class SearchSpace:
    """`slots` are searched in this order; `fixed` slots (the trusted evaluation) are not."""

    slots: tuple[str, ...]
    implementations: tuple[Implementation, ...]
    model_slot: str = ""
    coverage: tuple[str, ...] = ()  # slots whose families EXPLORE covers crosswise
    fixed: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for slot in self.slots:
            if not self.of(slot):
                raise UsageError(f"slot {slot!r} has no implementation in the search space")
        names = [(i.slot, i.name) for i in self.implementations]
        if len(names) != len(set(names)):
            raise UsageError("two implementations of one slot share a name")

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any]) -> SearchSpace:
        """From `{slot: [name, ...]}` or `{slot: {name: {"family": .., "params": {..}}}}`,
        params as `{name: (kind, low, high, default)}` or `{name: [choices]}`."""
        impls: list[Implementation] = []
        for slot, entries in mapping.items():
            if isinstance(entries, Mapping):
                for name, spec in entries.items():
                    spec = spec or {}
                    params = tuple(_param(n, p) for n, p in (spec.get("params") or {}).items())
                    impls.append(Implementation(slot, str(name), spec.get("family", ""), params))
            else:
                impls += [Implementation(slot, str(name)) for name in entries]
        slots = tuple(mapping)
        return cls(slots=slots, implementations=tuple(impls), model_slot=slots[-1],
                   coverage=slots[-2:] if len(slots) > 1 else slots)

    def of(self, slot: str) -> list[Implementation]:
        return [i for i in self.implementations if i.slot == slot]

    def get(self, slot: str, name: str) -> Implementation | None:
        return next((i for i in self.implementations if i.slot == slot and i.name == name), None)

    def families(self, slot: str) -> list[str]:
        return list(dict.fromkeys(i.family_name for i in self.of(slot)))

    def combo(self, choices: Mapping[str, str],
              params: Mapping[str, Mapping[str, Any]] | None = None) -> Combo:
        params = params or {}
        impls = {s: self.get(s, n) for s, n in choices.items()}
        return Combo(slots=dict(choices),
                     params={s: {**(i.defaults() if i else {}), **(params.get(s) or {})}
                             for s, i in impls.items()},
                     families={s: (impls[s].family_name if impls[s] else n)  # type: ignore[union-attr]
                               for s, n in choices.items()})

    def default_combo(self) -> Combo:
        return self.combo({s: self.of(s)[0].name for s in self.slots})

    def with_implementation(self, impl: Implementation) -> SearchSpace:
        return SearchSpace(self.slots, (*self.implementations, impl), self.model_slot,
                           self.coverage, self.fixed)


def _param(name: str, spec: Any) -> Param:
    if isinstance(spec, Param):
        return spec
    if isinstance(spec, list | tuple) and spec and spec[0] in ("log", "float", "int"):
        kind, low, high, *rest = spec
        default = rest[0] if rest else (math.sqrt(low * high) if kind == "log"
                                        else (low + high) / 2)
        if kind == "int":
            default = int(default)
        return Param(name, kind, default, float(low), float(high))
    if isinstance(spec, list | tuple):
        return Param(name, "choice", spec[0], choices=tuple(spec))
    raise UsageError(f"parameter {name}: give (kind, low, high[, default]) or a list of "
                     f"choices, got {spec!r}")
