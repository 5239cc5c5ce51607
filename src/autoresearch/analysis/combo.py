"""A candidate of a pipeline task: one implementation (with its parameters) per slot.

Combos travel through the store as an experiment's knobs:
``{"slots": {slot: impl}, "params": {slot: {name: value}}, "families": {slot: family}}``, plus
``"sources": {slot: code}`` for implementations written at run time (by a model), so every view
of the study (analysis, dashboard, report) can read them without the catalog and a resumed
search can reuse them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from autoresearch.records import Experiment


@dataclass(frozen=True)
class Combo:
    slots: Mapping[str, str]
    params: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    families: Mapping[str, str] = field(default_factory=dict)
    sources: Mapping[str, str] = field(default_factory=dict)  # run-time implementations

    def __getitem__(self, slot: str) -> str:
        return self.slots[slot]

    def params_of(self, slot: str) -> dict[str, Any]:
        return dict(self.params.get(slot, {}))

    def component(self, slot: str) -> str:
        """The slot's choice as one comparable string, e.g. ``hgb(learning_rate=0.1)``."""
        params = self.params.get(slot) or {}
        inner = ",".join(f"{k}={_short(v)}" for k, v in sorted(params.items()))
        return f"{self.slots[slot]}({inner})" if inner else self.slots[slot]

    @property
    def key(self) -> str:
        """Identity for dedup: slots and params, canonical JSON."""
        return json.dumps({"slots": dict(self.slots),
                           "params": {s: dict(p) for s, p in self.params.items() if p}},
                          sort_keys=True, default=str)

    def knobs(self) -> dict[str, Any]:
        knobs = {"slots": dict(self.slots),
                 "params": {s: dict(p) for s, p in self.params.items() if p},
                 "families": dict(self.families)}
        if self.sources:
            knobs["sources"] = dict(self.sources)
        return knobs

    def replace(self, slot: str, impl: str, params: Mapping[str, Any] | None = None,
                family: str | None = None, source: str | None = None) -> Combo:
        sources = {s: c for s, c in self.sources.items() if s != slot}
        if source:
            sources[slot] = source
        return Combo(slots={**self.slots, slot: impl},
                     params={**self.params, slot: dict(params or {})},
                     families={**self.families, slot: family or impl}, sources=sources)

    def differences(self, other: Combo) -> list[str]:
        """Slots whose component differs between the two combos."""
        slots = sorted(set(self.slots) | set(other.slots))
        return [s for s in slots if s not in self.slots or s not in other.slots
                or self.component(s) != other.component(s)]

    def describe(self) -> str:
        """The components in slot order, e.g. ``as_read · onehot_standard · linear(C=1)``."""
        return " · ".join(self.component(s) for s in self.slots)

    @classmethod
    def from_knobs(cls, knobs: Mapping[str, Any]) -> Combo | None:
        slots = knobs.get("slots")
        if not isinstance(slots, Mapping) or not slots:
            return None
        return cls(slots=dict(slots), params={s: dict(p) for s, p in
                                              (knobs.get("params") or {}).items()},
                   families=dict(knobs.get("families") or {}),
                   sources=dict(knobs.get("sources") or {}))


def combo_of(experiment: Experiment) -> Combo | None:
    return Combo.from_knobs(experiment.proposal.knobs)


def _short(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)
