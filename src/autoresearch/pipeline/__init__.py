"""Pipeline (tabular) tasks on the research loop: combos of slot implementations, planned by
PipelineStrategy, proposed by ComboProposer, run by TabularExecutor's warm table workers.

    from autoresearch.pipeline import Coordinator
    Coordinator(backend, budget_per_round=10).run(n_rounds=4, llm_rounds=3)

Names are imported on first use. The analyses of a pipeline study (read by the dashboard and
the report) live in `autoresearch.analysis.pipeline`, combos in `autoresearch.analysis.combo`.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from autoresearch.analysis.combo import Combo

_EXPORTS = {
    "Backend": "backend", "Coordinator": "backend",
    "SlotContext": "proposer", "SlotProposal": "proposer", "SlotProposer": "proposer",
    "Implementation": "space", "Param": "space", "SearchSpace": "space",
}
__all__ = ["Combo", *sorted(_EXPORTS)]


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{_EXPORTS[name]}"), name)
