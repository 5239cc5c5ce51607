"""`autoresearch report` as a user runs it: a real subprocess on real store files."""

from __future__ import annotations

import pytest

from autoresearch.storage import Store
from autoresearch.tasks import get_task
from tests.conftest import run_cli


def _no_study(path):
    Store(path).close()


def _study_without_experiments(path):
    store = Store(path)
    store.study("shakespeare", get_task("shakespeare").metric, 30.0, "abc", "test")
    store.close()


@pytest.mark.parametrize(
    ("make", "code", "message"),
    [
        (None, 3, "no store at"),
        (_no_study, 2, "holds no study for task 'shakespeare'"),
        (_study_without_experiments, 2, "the shakespeare study holds no experiment yet; run "
                                        "`autoresearch run --task shakespeare` first"),
    ],
    ids=["missing-file", "empty-store", "study-without-experiments"],
)
def test_nothing_to_report_is_one_clear_line(tmp_path, report_env, make, code, message):
    store = tmp_path / "store.db"
    if make is not None:
        make(store)
    target = tmp_path / "report.html"
    out = run_cli(["report", "--task", "shakespeare", "--storage", str(store), "-o",
                   str(target)], report_env)
    assert out.returncode == code, out.stderr
    assert message in " ".join(out.stderr.split())
    assert "Traceback" not in out.stderr and not target.exists()
    assert not (make is None and store.exists())  # reading never creates a store


def test_unwritable_output_is_a_usage_error(tmp_path, report_env):
    from .synthetic import Shape, build

    store, _ = build(tmp_path / "s.db", Shape(experiments=3))
    store.close()
    out = run_cli(["report", "--task", "shakespeare", "--storage", str(tmp_path / "s.db"), "-o",
                   str(tmp_path / "no" / "such" / "dir" / "r.html")], report_env)
    assert out.returncode == 2 and "cannot write" in out.stderr and "-o" in out.stderr
