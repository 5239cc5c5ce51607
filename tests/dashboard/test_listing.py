"""The light listing, the store revision and the dashboard's per-study cache, on real SQLite."""

from __future__ import annotations

import pytest

from autoresearch.analysis.study import summarize
from autoresearch.metric import Direction
from autoresearch.records import FailureKind, SeedRun, Status
from autoresearch.ui.dashboard.data import StudyCache, StudyData

from .stores import add, baseline, finish, open_study


def test_briefs_are_the_full_records_without_the_heavy_text(tmp_path):
    store, study = open_study(tmp_path / "s.db")
    base = baseline(store, study)
    add(store, study, (2.9, 2.8), status=Status.KEPT, parent=base, knobs={"LR": 0.004},
        log_tail="x" * 5000)
    add(store, study, (1.0,), status=Status.CRASHED, failure=FailureKind.CRASH, parent=base,
        reason="boom")
    full, brief = store.experiments(study), store.experiment_briefs(study)
    assert [e.id for e in brief] == [e.id for e in full]
    for f, b in zip(full, brief, strict=True):
        assert (b.status, b.failure, b.reason, b.metric_mean, b.metric_std, b.test_mean) == \
            (f.status, f.failure, f.reason, f.metric_mean, f.metric_std, f.test_mean)
        assert b.proposal.knobs == f.proposal.knobs and b.proposal.parent_id == f.proposal.parent_id
        assert [(r.seed, r.metric, r.failure) for r in b.seed_runs] == \
            [(r.seed, r.metric, r.failure) for r in f.seed_runs]
        assert b.code == "" and all(r.log_tail == "" and r.loss_curve == () for r in b.seed_runs)
    assert full[1].seed_runs[0].log_tail == "x" * 5000


def test_briefs_after_an_id_return_new_and_named_experiments_only(tmp_path):
    store, study = open_study(tmp_path / "s.db")
    first = baseline(store, study)
    running = add(store, study, (2.9,), status=None, parent=first)
    done = add(store, study, (2.8, 2.7), parent=first)
    newer = add(store, study, (2.5,), parent=first)
    got = store.experiment_briefs(study, after=done.id, ids=[running.id])
    assert [e.id for e in got] == [running.id, newer.id]
    assert [len(e.seed_runs) for e in got] == [1, 1]


def test_revision_changes_with_every_kind_of_write(tmp_path):
    store, study = open_study(tmp_path / "s.db")
    seen = {store.revision(study)}
    base = baseline(store, study)
    seen.add(store.revision(study))
    running = add(store, study, (2.9,), status=None, parent=base)
    seen.add(store.revision(study))
    store.add_seed_run(running.id, SeedRun(seed=137, failure=None, metric=2.8))
    seen.add(store.revision(study))
    finish(store, running, Status.KEPT, ())
    seen.add(store.revision(study))
    assert len(seen) == 5
    assert store.revision(study) == store.revision(study)


def test_cache_refreshes_incrementally_and_matches_a_full_read(tmp_path):
    store, study = open_study(tmp_path / "s.db")
    cache = StudyCache()
    base = baseline(store, study)
    first = cache.get(store, study)
    assert cache.get(store, study) is first  # unchanged store: same object, nothing read
    running = add(store, study, (2.9,), status=None, parent=base)
    crashed = add(store, study, (0,), status=Status.CRASHED, failure=FailureKind.CRASH,
                  parent=base, reason="boom")
    second = cache.get(store, study)
    assert second is not first and len(second.experiments) == 3
    assert second.by_id[running.id].status is Status.RUNNING
    assert second.by_id[base.id] is first.by_id[base.id]  # unchanged rows are reused
    kept = finish(store, running, Status.KEPT, (2.8,))
    third = cache.get(store, study)
    full = StudyData.load(store, study)
    assert third.rows == full.rows and third.chart == full.chart
    expected = summarize(store.experiments(study), study.metric)
    got = third.summary
    assert (got.experiments, got.kept, got.running, got.failures, got.gain, got.best.id) == \
        (expected.experiments, expected.kept, expected.running, expected.failures,
         expected.gain, expected.best.id)
    assert third.by_id[kept.id].status is Status.KEPT and third.summary.best.id == kept.id
    assert third.by_id[crashed.id].failure == "crash"


def test_cache_sees_a_finished_experiment_measured_again(tmp_path):
    store, study = open_study(tmp_path / "s.db")
    cache = StudyCache()
    base = baseline(store, study)
    assert cache.get(store, study).by_id[base.id].metric == 3.0
    # The incumbent of a later comparison gains a re-measurement of its seed.
    store.add_seed_run(base.id, SeedRun(seed=42, failure=None, metric=3.2, measurement=1))
    assert cache.get(store, study).by_id[base.id].metric == StudyData.load(
        store, study).by_id[base.id].metric == pytest.approx(3.05)


def test_cache_notices_a_replaced_store(tmp_path):
    store, study = open_study(tmp_path / "s.db")
    cache = StudyCache()
    baseline(store, study)
    add(store, study, (2.5,), status=Status.KEPT)
    assert len(cache.get(store, study).experiments) == 2
    store.close()
    (tmp_path / "s.db").unlink()
    store, study = open_study(tmp_path / "s.db", direction=Direction.MAX)
    baseline(store, study, 0.5)
    data = cache.get(store, study)
    assert len(data.experiments) == 1 and data.study.metric.direction is Direction.MAX
