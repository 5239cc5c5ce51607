"""Offline proposer: edits the annotated knobs of the parent's code, no LLM needed.

Incremental mode changes one or two knobs: near the parent while the history is short, then by
Optuna's TPE fitted on every scored experiment (multivariate, so knobs that interact are
modelled together; experiments in flight count as pending, so parallel workers do not all ask
for the same point). Exploration redraws several knobs over their whole range; diversification
changes two or three knobs of a non-best parent. Each proposal names its sampler in its
proposer field ("offline:local", "offline:tpe", "offline:uniform").
"""

from __future__ import annotations

import random
import warnings
from typing import TYPE_CHECKING, Any

from autoresearch.errors import ProposalError
from autoresearch.knobs import Knob, KnobError, apply_knobs, format_value, parse_knobs
from autoresearch.records import Experiment, Mode, Proposal, Status
from autoresearch.search.proposer import ProposalContext
from autoresearch.tasks import Direction

if TYPE_CHECKING:
    import optuna

# Optuna is imported where a study is built or read: it costs 0.15 s of start-up, which every
# command would pay (this module is imported by the CLI) and a tabular run pays on the path to
# its first fits.

TPE_AFTER = 8  # scored experiments before TPE takes over from local moves (TPE's own start-up
# counts the same: a failed or unfinished trial tells it nothing)
KNOBS_CHANGED = {Mode.INCREMENTAL: (1, 2), Mode.DIVERSIFICATION: (2, 3),
                 Mode.EXPLORATION: (3, 5)}
MAX_TRIES = 50


class OfflineProposer:
    name = "offline"

    def __init__(self, seed: int = 0, fixed: frozenset[str] = frozenset(),
                 local: bool = True) -> None:
        self.seed = seed
        # Before TPE: small steps from the parent (local) or redraws over the whole range.
        self.local = local
        # Knobs the script overrides after setting them: turning them would change nothing.
        self.fixed = fixed

    def propose(self, context: ProposalContext) -> Proposal:
        try:
            knobs = parse_knobs(context.parent.code)
        except (KnobError, SyntaxError) as exc:
            raise ProposalError(f"cannot read the parent's knobs: {exc}") from exc
        knobs = {n: k for n, k in knobs.items() if n not in self.fixed}
        if not knobs:
            raise ProposalError("the parent has no `# search:` annotated knobs to tune; add "
                                "annotations or use an LLM proposer")
        rng = random.Random(f"{self.seed}:{context.number}")
        study = _history_study(context, knobs, rng)
        seen = {_key(e.proposal.knobs) for e in context.history}
        parent_values = {n: k.value for n, k in knobs.items()}
        sampler = _sampler(context.mode, study, self.local)
        for _ in range(MAX_TRIES):
            low, high = KNOBS_CHANGED[context.mode]
            chosen = rng.sample(list(knobs), k=min(len(knobs), rng.randint(low, high)))
            values = _sample(sampler, knobs, chosen, study, rng)
            values = {n: v for n, v in values.items() if v != parent_values[n]}
            if values and _key({**parent_values, **values}) not in seen:
                return self._proposal(context, knobs, parent_values, values, sampler)
        raise ProposalError("every nearby knob setting was already tried")

    def _proposal(self, context: ProposalContext, knobs: dict[str, Knob],
                  parent: dict[str, Any], values: dict[str, Any], sampler: str) -> Proposal:
        changes = [f"{n} {format_value(parent[n], knobs[n].kind)} -> "
                   f"{format_value(v, knobs[n].kind)}" for n, v in values.items()]
        categories = [knobs[n].category for n in values]
        category = max(set(categories), key=categories.count)
        code = apply_knobs(context.parent.code, knobs, values)
        return Proposal(
            code=code,
            description=", ".join(changes),
            category=category,
            mode=context.mode,
            parent_id=context.parent.id,
            proposer=f"{self.name}:{sampler}",
            hypothesis=_hypothesis(context.mode, sampler),
            knobs=parse_values(code),
        )


def parse_values(code: str) -> dict[str, Any]:
    try:
        return {n: k.value for n, k in parse_knobs(code).items()}
    except (KnobError, SyntaxError):
        return {}


def _sampler(mode: Mode, study: optuna.Study, local: bool) -> str:
    """uniform (exploration), tpe once enough experiments were scored, else local steps (or
    uniform redraws, as TPE's own start-up would make)."""
    from optuna.trial import TrialState

    if mode is Mode.EXPLORATION:
        return "uniform"
    scored = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    if len(scored) >= TPE_AFTER:
        return "tpe"
    return "local" if local else "uniform"


def _sample(sampler: str, knobs: dict[str, Knob], chosen: list[str], study: optuna.Study,
            rng: random.Random) -> dict[str, Any]:
    if sampler == "uniform":
        return {n: knobs[n].draw(rng) for n in chosen}
    if sampler == "tpe":
        return dict(study.ask({n: knobs[n].distribution() for n in chosen}).params)
    return {n: _local(knobs[n], rng) for n in chosen}


WHY = {"local": "a small step from the parent may improve the metric",
       "tpe": "TPE fitted on the scored history expects this setting to improve the metric",
       "uniform": "too few scores to model yet: a knob redrawn over its whole range may find a "
                  "better region"}


def _hypothesis(mode: Mode, sampler: str) -> str:
    if mode is Mode.EXPLORATION:
        return "a distant region of the knob space may hold a better optimum"
    why = WHY[sampler]
    if mode is Mode.DIVERSIFICATION:
        return f"progress stalled around the best; a runner-up may lead elsewhere ({why})"
    return why


def _key(values: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((k, repr(v)) for k, v in values.items()))


def _local(knob: Knob, rng: random.Random) -> Any:
    """A step from the current value: a factor of ~2 on log scales, a neighbour for choices."""
    if knob.kind in ("choice", "bool"):
        if knob.value not in knob.choices:
            return rng.choice(knob.choices)
        i = knob.choices.index(knob.value)
        neighbours = [knob.choices[j] for j in (i - 1, i + 1) if 0 <= j < len(knob.choices)]
        return rng.choice(neighbours)
    assert knob.low is not None and knob.high is not None
    value = float(knob.value)
    if knob.kind == "log":
        step = rng.choice((-1, 1)) * rng.uniform(0.5, 1.2)
        return min(knob.high, max(knob.low, value * 2.0**step))
    if knob.kind == "int":
        span = max(1, round((knob.high - knob.low) * 0.15))
        step = rng.choice((-1, 1)) * rng.randint(1, span)
        return int(min(knob.high, max(knob.low, value + step)))
    span = (knob.high - knob.low) * rng.uniform(0.1, 0.3)
    return min(knob.high, max(knob.low, value + rng.choice((-1, 1)) * span))


def _history_study(context: ProposalContext, knobs: dict[str, Knob],
                   rng: random.Random) -> optuna.Study:
    """An in-memory Optuna study rebuilt from the store, so resuming loses nothing."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    direction = "minimize" if context.metric.direction is Direction.MIN else "maximize"
    with warnings.catch_warnings():  # multivariate and constant_liar are marked experimental
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        sampler = optuna.samplers.TPESampler(seed=rng.randrange(2**31),
                                             n_startup_trials=TPE_AFTER, multivariate=True,
                                             constant_liar=True)
    study = optuna.create_study(direction=direction, sampler=sampler)
    for experiment in context.history:
        trial = _as_trial(experiment, knobs)
        if trial is not None:
            study.add_trial(trial)
    return study


def _as_trial(experiment: Experiment, knobs: dict[str, Knob]) -> optuna.trial.FrozenTrial | None:
    """A scored experiment as a complete trial, a failed one as failed, one in flight as
    running (the constant liar's pending point)."""
    from optuna.trial import TrialState, create_trial

    params = {n: v for n, v in experiment.proposal.knobs.items()
              if n in knobs and knobs[n].contains(v)}
    if not params:
        return None
    distributions = {n: knobs[n].distribution() for n in params}
    if not experiment.status.finished:
        return create_trial(params=params, distributions=distributions,
                            state=TrialState.RUNNING)
    if experiment.status in (Status.KEPT, Status.DISCARDED, Status.MEASURED) and \
            experiment.metric_mean is not None:
        return create_trial(params=params, distributions=distributions,
                            value=experiment.metric_mean)
    return create_trial(params=params, distributions=distributions, state=TrialState.FAIL)
