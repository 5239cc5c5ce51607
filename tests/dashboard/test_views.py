"""What the pages show, computed from real records: direction-aware everywhere."""

from __future__ import annotations

import pytest

from autoresearch.metric import Direction
from autoresearch.records import FailureKind, Mode, Status
from autoresearch.ui.dashboard import views
from autoresearch.ui.dashboard.data import StudyData

from .stores import add, baseline, open_study


@pytest.fixture(params=[Direction.MIN, Direction.MAX], ids=["min", "max"])
def scored(request, tmp_path):
    """Baseline 0.5, a better, a worse and a crashed experiment, whatever the direction."""
    direction = request.param
    sign = 1 if direction is Direction.MAX else -1
    store, study = open_study(tmp_path / "s.db", metric="score", direction=direction)
    base = baseline(store, study, 0.5)
    better = add(store, study, (0.5 + sign * 0.2,), status=Status.KEPT, parent=base,
                 category="architectural", mode=Mode.EXPLORATION, knobs={"ACT": "gelu"})
    worse = add(store, study, (0.5 - sign * 0.1,), parent=better, knobs={"ACT": "relu"})
    crashed = add(store, study, (0.0,), status=Status.CRASHED, failure=FailureKind.CRASH,
                  parent=better, reason="boom", knobs={"ACT": "relu"})
    return StudyData.load(store, study), base, better, worse, crashed


def test_sorting_by_metric_puts_the_best_first_and_missing_last(scored):
    data, base, better, worse, crashed = scored
    best_first = data.table(views.TableQuery.parse(sort="metric", order="asc")).rows
    assert [r.id for r in best_first] == [better.id, base.id, worse.id, crashed.id]
    worst_first = data.table(views.TableQuery.parse(sort="metric", order="desc")).rows
    assert [r.id for r in worst_first] == [worse.id, base.id, better.id, crashed.id]
    by_gain = data.table(views.TableQuery.parse(sort="gain", order="asc")).rows
    assert by_gain[0].id == better.id and by_gain[0].gain == pytest.approx(0.2)
    assert data.by_id[worse.id].gain == pytest.approx(-0.1)


def test_filters_and_paging(scored):
    data, _, better, _, crashed = scored
    failed = data.table(views.TableQuery.parse(status="failed"))
    assert [r.id for r in failed.rows] == [crashed.id] and failed.matching == 1
    assert failed.total == 4 and "crashed" in failed.statuses
    kept = data.table(views.TableQuery.parse(status="kept", category="architectural"))
    assert [r.id for r in kept.rows] == [better.id]
    assert data.table(views.TableQuery.parse(mode="exploration")).matching == 1
    paged = views.table(data.rows, views.TableQuery.parse(page=2), data.study.metric, per_page=3)
    assert paged.pages == 2 and [r.number for r in paged.rows] == [0]  # newest first
    beyond = views.table(data.rows, views.TableQuery.parse(page=9), data.study.metric, per_page=3)
    assert beyond.page == 2 and len(beyond.rows) == 1


def test_unknown_query_values_fall_back_to_defaults():
    query = views.TableQuery.parse(sort="DROP TABLE", order="sideways", page=-3)
    assert (query.sort, query.order, query.page) == ("number", "desc", 1)


def test_chart_pins_failures_at_the_worst_edge_and_draws_best_so_far(scored):
    data, base, better, worse, crashed = scored
    chart = data.chart
    assert {p["id"] for p in chart["points"]} == {base.id, better.id, worse.id}
    [failed] = chart["failed"]
    assert failed["id"] == crashed.id and failed["failure"] == "crash"
    assert failed["y"] == pytest.approx(worse.metric_mean)  # the worst scored value
    assert [round(p["y"], 6) for p in chart["best"]] == \
        [0.5, round(better.metric_mean, 6), round(better.metric_mean, 6),
         round(better.metric_mean, 6)]


def test_knob_values_ranked_best_first(scored):
    data, *_ = scored
    [act] = data.knobs
    assert act.name == "ACT" and not act.numeric
    assert [(v.value, v.tried, v.kept) for v in act.ranking] == [("gelu", 1, 1), ("relu", 2, 0)]


def test_lineage_handles_long_chains_and_marks_the_path_to_the_best(tmp_path):
    store, study = open_study(tmp_path / "s.db")
    parent = baseline(store, study, 3.0)
    chain = [parent]
    for i in range(1500):  # deeper than Python's recursion limit
        parent = add(store, study, (3.0 - i * 1e-4,), status=Status.KEPT, parent=parent)
        chain.append(parent)
    side = add(store, study, (3.5,), parent=chain[10])
    data = StudyData.load(store, study)
    tree = data.tree(kept_only=False)
    assert [t.row.id for t in tree] == [e.id for e in chain] + [side.id]  # depth first
    assert [t.depth for t in tree] == [*range(1501), 11]
    assert all(t.on_best_path for t in tree[:-1]) and not tree[-1].on_best_path
    assert tree[-2].best and not any(t.best for t in tree[:-2])
    assert side.id not in {t.row.id for t in data.tree(kept_only=True)}
