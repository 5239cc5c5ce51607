"""What the report states, checked against numbers worked out by hand or from the store."""

from __future__ import annotations

import itertools
import subprocess
import sys
import time
from dataclasses import dataclass

import pytest

from autoresearch.analysis.study import best_of, best_so_far
from autoresearch.metric import Direction, Metric
from autoresearch.records import Mode, Proposal, SeedRun, Status
from autoresearch.storage import Store
from autoresearch.ui.report import render_report
from autoresearch.ui.report._facts import top
from autoresearch.ui.report._insights import by_category_insights, overall
from autoresearch.ui.report._knobs import importance, knob_space
from autoresearch.ui.report._tables import pipeline_tables, table

from .synthetic import Shape, build

BPB = Metric("val_bpb", Direction.MIN)


def _add(store, study, *, knobs, seeds, parent=None, status=Status.KEPT, category="optimizer",
         mode=Mode.INCREMENTAL, description="change"):
    e = store.add_experiment(study, Proposal(
        code=f"# {knobs}\n", description=description, category=category, mode=mode,
        parent_id=parent.id if parent else None, proposer="offline", knobs=knobs), "", [])
    for seed, value in seeds.items():
        store.add_seed_run(e.id, SeedRun(seed=seed, failure=None, metric=value))
    store.finish_experiment(e.finish(status, None, "", time.time()))
    return store.experiment(e.id)


def test_insights_credit_gains_and_seed_agreement(tmp_path):
    store = Store(tmp_path / "s.db")
    study = store.study("shakespeare", BPB, 1.0, "h", "test")
    base = _add(store, study, knobs={"LR": 0.003, "N_LAYER": 3}, seeds={42: 2.0, 137: 2.1},
                mode=Mode.BASELINE, category="baseline", description="baseline")
    # Raising LR: better on both seeds (2.0 -> 1.9, 2.1 -> 2.05), gain 2.05 - 1.975 = 0.075.
    a = _add(store, study, knobs={"LR": 0.006, "N_LAYER": 3}, seeds={42: 1.9, 137: 2.05},
             parent=base, description="LR up")
    # Raising LR again from a: one seed better, one worse (1.8 < 1.9, 2.1 > 2.05), gain 0.025.
    _add(store, study, knobs={"LR": 0.01, "N_LAYER": 3}, seeds={42: 1.8, 137: 2.1}, parent=a)
    # Lowering N_LAYER twice: both discarded.
    for _ in range(2):
        _add(store, study, knobs={"LR": 0.006, "N_LAYER": 2}, seeds={42: 2.3}, parent=a,
             status=Status.DISCARDED, category="architectural")
    experiments = store.experiments(study)

    groups = {g.category: g.lines for g in by_category_insights(experiments, BPB, {})}
    assert groups["optimizer"][0] == "2 of 2 experiments kept, mean gain +0.0500 val_bpb over " \
        "the parent."
    assert groups["optimizer"][1].startswith("Largest single gain: #1 \u201cLR up\u201d, "
                                             "+0.0750 val_bpb over its parent #0, better on 2 "
                                             "of 2 seeds")
    assert "Raising LR was kept in 2 of 2 tries, mean gain +0.0500 val_bpb; better than the " \
        "parent on 3 of 4 seeds." in groups["optimizer"]
    assert groups["architectural"] == ["0 of 2 experiments kept.",
                                       "Lowering N_LAYER never helped (2 tries)."]
    assert overall(experiments, BPB)[0] == ("The best experiment, #2, improves val_bpb by "
                                            "+0.1000 over the baseline (2.0500 \u2192 1.9500).")


@pytest.mark.parametrize("direction", [Direction.MIN, Direction.MAX])
def test_direction_is_respected_everywhere(tmp_path, direction):
    store, study = build(tmp_path / "s.db", Shape(experiments=40, direction=direction, seed=3))
    metric = study.metric
    experiments = store.experiments(study)
    ranked = top(experiments, metric)
    kept = [r.experiment.metric_mean for r in ranked if r.experiment.status is Status.KEPT]
    assert len(ranked) == 5 and len(kept) >= 3
    assert all(metric.is_better(a, b) or a == b  # type: ignore[arg-type]
               for a, b in itertools.pairwise(kept))
    assert ranked[0].experiment == best_of(experiments, metric)  # the summary's best
    assert ranked[0].gain is not None and ranked[0].gain > 0
    series = [v for _, v in best_so_far(experiments, metric)]
    assert all(not metric.is_better(a, b) for a, b in itertools.pairwise(series))
    assert overall(experiments, metric)[0].split(" by ")[1].startswith("+")


def test_knob_importance_finds_the_knob_that_matters(tmp_path):
    """The synthetic surface depends mostly on LEARNING_RATE (tests/report/synthetic.py)."""
    store, study = build(tmp_path / "s.db", Shape(experiments=80, failure_rate=0.0))
    experiments = store.experiments(study)
    space = knob_space(experiments)
    assert space is not None and space.declared and "LEARNING_RATE" in space.log
    assert space.categories["N_LAYER"] == "architectural"
    result = importance(experiments, space, study.metric)
    assert result is not None and result.trials == 80
    assert max(result.values, key=result.values.__getitem__) == "LEARNING_RATE"
    assert sum(result.values.values()) == pytest.approx(1.0)


def test_too_few_points_give_no_importance_and_say_why(tmp_path):
    store, study = build(tmp_path / "s.db", Shape(experiments=6, failure_rate=0.0))
    experiments = store.experiments(study)
    space = knob_space(experiments)
    assert space is not None and importance(experiments, space, study.metric) is None
    assert "Knob importance needs at least 10 scored experiments; this study has 6." \
        in render_report(study, experiments)


@dataclass(frozen=True)
class _Row:
    slot: str
    score: float | None


def test_tables_take_records_of_any_shape():
    t = table("t", [_Row("model", 0.912345), _Row("features", None)])
    assert t is not None and t.columns == ("slot", "score")
    assert t.rows == (("model", "0.9123"), ("features", "-"))
    t = table("t", [{"a": 1, "b": [1, 2]}, {"a": 2, "c": "x"}])
    assert t is not None and t.columns == ("a", "b", "c")
    assert t.rows == (("1", "1, 2", "-"), ("2", "-", "x"))
    assert table("t", []) is None


def test_pipeline_sections_come_from_the_pipeline_analysis(tmp_path):
    pytest.importorskip("autoresearch.analysis.pipeline")
    store = Store(tmp_path / "s.db")
    metric = Metric("accuracy", Direction.MAX)
    study = store.study("csv:demo", metric, 60.0, "h", "test")

    def combo(model: str, scaler: str) -> dict[str, object]:
        return {"slots": {"engineer_features": scaler, "build_model": model},
                "params": {}, "families": {"engineer_features": scaler, "build_model": model}}

    base = _add(store, study, knobs=combo("logreg", "none"), seeds={0: 0.80, 1: 0.82},
                mode=Mode.BASELINE, category="baseline", description="baseline")
    _add(store, study, knobs=combo("hgb", "none"), seeds={0: 0.90, 1: 0.91}, parent=base,
         mode=Mode.EXPLORE, category="build_model", description="model=hgb")
    _add(store, study, knobs=combo("logreg", "standard"), seeds={0: 0.84, 1: 0.83}, parent=base,
         mode=Mode.EXPLORE, category="engineer_features", description="scaler=standard")
    experiments = store.experiments(study)
    tables = {t.title: t for t in pipeline_tables(experiments, metric)}
    ranking = tables["Per-slot rankings"]
    rows = [dict(zip(ranking.columns, r, strict=True)) for r in ranking.rows]
    best_model = next(r for r in rows if r["slot"] == "build_model" and r["rank"] == "1")
    assert best_model["implementation"] == "hgb"  # higher accuracy wins: direction-aware
    html = render_report(study, experiments)
    assert "Per-slot rankings" in html and "Pipeline analysis" in html


def test_the_report_prints_no_optuna_log_lines():
    """Optuna logs a line per study at INFO; the report's studies are an internal detail."""
    probe = "import autoresearch.ui.report._knobs, optuna; optuna.create_study()"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          check=True)
    assert "study created" not in done.stderr, done.stderr
