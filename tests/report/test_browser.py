"""Reports opened in real headless Chromium with every network request refused."""

from __future__ import annotations

import pytest

from autoresearch.analysis.study import summarize
from autoresearch.records import FailureKind, Mode, Proposal, SeedRun, Status
from autoresearch.storage import Store
from autoresearch.tasks import get_task
from autoresearch.ui.report import ReportOptions, write_report
from tests.browser import requires_chromium
from tests.conftest import run_cli

from .conftest import open_report
from .synthetic import HOSTILE, Shape, build

pytestmark = requires_chromium
TASK = get_task("shakespeare")


@pytest.mark.slow
def test_report_of_a_real_run_works_offline(real_store, report_env, tmp_path):
    target = tmp_path / "shakespeare_report.html"
    out = run_cli(["report", "--task", "shakespeare", "--storage", str(real_store), "-o",
                   str(target)], report_env)
    assert out.returncode == 0, out.stderr
    assert f"wrote {target}" in " ".join(out.stdout.split())

    page = open_report(target, shot="report-real-run.png")
    assert page.errors == [] and page.blocked == []
    assert sorted(page.drawn) == sorted(page.plots)
    assert {"fig-progression", "fig-seeds", "fig-categories"} <= set(page.plots)

    store = Store(real_store, create=False)
    (study,) = store.studies("shakespeare")
    experiments = store.experiments(study)
    summary = summarize(experiments, study.metric)
    assert summary.baseline is not None and summary.baseline.metric_mean is not None
    assert f"{summary.baseline.metric_mean:.4f}" in page.text
    assert f"{len(experiments)} experiments (sealed test shown for kept ones only)" in page.text
    for e in experiments:
        assert e.proposal.description in page.text


def test_llm_costs_knobs_and_hostile_text(tmp_path):
    store, study = build(tmp_path / "s.db", Shape(experiments=60, llm_cost=True, hostile=True))
    target = tmp_path / "report.html"
    write_report(target, study, store.experiments(study))
    html = target.read_text()
    assert "<img src=x" not in html and "window.__pwned=1</script>" not in html

    page = open_report(target, shot="report-synthetic.png")
    assert page.errors == [] and page.blocked == []
    assert page.pwned is None  # no stored text ran as script
    assert set(page.plots) == {"fig-progression", "fig-seeds", "fig-categories",
                               "fig-failures", "fig-cost", "fig-parallel", "fig-importance"}
    assert sorted(page.drawn) == sorted(page.plots)
    assert HOSTILE in page.text  # shown as the text it is
    assert "per kept improvement" in page.text


def test_store_with_only_failures(tmp_path, report_env):
    """The baseline itself failed (the loop stops there), plus failures from a resumed study."""
    store = Store(tmp_path / "failed.db")
    study = store.study("shakespeare", TASK.metric, 1.0, "abc123", "test")
    kinds = [FailureKind.CRASH, FailureKind.OOM, FailureKind.SYNTAX, FailureKind.OOM,
             FailureKind.TIMEOUT]
    for i, kind in enumerate(kinds):
        proposal = Proposal(code=f"x = {i}\n", description="baseline" if i == 0 else f"try {i}",
                            category="baseline" if i == 0 else "optimizer",
                            mode=Mode.BASELINE if i == 0 else Mode.INCREMENTAL,
                            parent_id=None, proposer="offline")
        e = store.add_experiment(study, proposal, "", [42])
        store.add_seed_run(e.id, SeedRun(seed=42, failure=kind, reason=f"{kind.value} #{i}"))
        store.finish_experiment(e.finish(kind.status, kind, f"{kind.value} #{i}", e.created_at))
    store.close()
    target = tmp_path / "failed.html"
    out = run_cli(["report", "--task", "shakespeare", "--storage", str(tmp_path / "failed.db"),
                   "-o", str(target)], report_env)
    assert out.returncode == 0, out.stderr

    page = open_report(target, shot="report-failures-only.png")
    assert page.errors == [] and page.blocked == []
    assert set(page.plots) == {"fig-progression", "fig-categories", "fig-failures"}
    assert sorted(page.drawn) == sorted(page.plots)
    assert "No experiment besides the baseline has a score." in page.text
    assert "The baseline failed (crash: crash #0)" in page.text
    assert "4 of 4 experiments failed (100%), most often oom (2)." in page.text
    assert Status.OOM.value in page.text and "timeout #4" in page.text


def test_cdn_report_is_small_and_needs_the_network(tmp_path):
    store, study = build(tmp_path / "s.db", Shape(experiments=12))
    experiments = store.experiments(study)
    inline = write_report(tmp_path / "inline.html", study, experiments)
    small = write_report(tmp_path / "cdn.html", study, experiments, ReportOptions(cdn=True))
    assert small < 400_000 < 3_000_000 < inline
    # plotly.js is embedded once however many figures there are.
    assert (tmp_path / "inline.html").read_text().count("plotly.js v") == 1

    # An inline report draws within a second or two here; 5 s is ample to see this one not.
    page = open_report(tmp_path / "cdn.html", draw_ms=5_000)
    assert any("cdn.plot.ly" in url for url in page.blocked)
    assert page.drawn == []  # offline, a CDN report cannot draw: hence the inline default
