"""The HTTP surface on real SQLite stores: JSON, partials and pages, escaping, errors."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from autoresearch.analysis.study import summarize
from autoresearch.metric import Direction
from autoresearch.records import FailureKind, Mode, Status
from autoresearch.storage import Store
from autoresearch.ui.dashboard import create_app

from .stores import add, baseline, long_study, open_study

PAYLOAD = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">'


def client(path, **kwargs) -> TestClient:
    return TestClient(create_app(path, **kwargs))


def test_real_run_summary_rows_and_pages(real_store):
    store = Store(real_store, create=False)
    [study] = store.studies()
    experiments = store.experiments(study)
    expected = summarize(experiments, study.metric)
    store.close()
    http = client(real_store)

    summary = http.get("/api/summary").json()
    assert summary["study"]["task"] == "shakespeare" and summary["study"]["direction"] == "min"
    assert summary["experiments"] == expected.experiments == 2
    assert summary["kept"] == expected.kept and summary["failures"] == expected.failures
    assert summary["baseline"] == pytest.approx(expected.baseline.metric_mean)

    listing = http.get("/api/experiments", params={"sort": "number", "order": "asc"}).json()
    assert [r["number"] for r in listing["rows"]] == [0, 1, 2]
    assert listing["rows"][0]["mode"] == "baseline" and listing["rows"][0]["status"] == "kept"
    assert all(r["parent_number"] == 0 for r in listing["rows"][1:]
               if r["parent_id"] == experiments[0].id)

    page = http.get("/")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert len(re.findall(r'<tr class="st-[a-z]+" data-id=', page.text)) == 3
    assert 'hx-trigger="every 5.0s"' in page.text
    table = http.get("/partials/table", params={"status": "kept"}).text
    assert "<html" not in table and table.count("data-id=") == 1 + expected.kept
    stats = http.get("/partials/stats").text
    assert f'data-stat="experiments">{expected.experiments}<' in stats

    chart = http.get("/api/chart").json()
    assert len(chart["points"]) + len(chart["failed"]) == \
        sum(1 for e in experiments if e.metric_mean is not None or e.status.failed)
    assert chart["best"][0] == {"x": 0, "y": pytest.approx(expected.baseline.metric_mean)}

    detail = http.get(f"/experiments/{experiments[1].id}").text
    assert "class=\"hl\"" in detail and "harness" in detail  # highlighted code
    assert f'href="/experiments/{experiments[0].id}" data-field="parent">#0<' in detail
    assert detail.count('data-log-seed="') == sum(1 for r in experiments[1].seed_runs
                                                   if r.log_tail)
    assert 'type="application/json" id="curves-' in detail
    full = http.get(f"/api/experiments/{experiments[1].id}").json()
    assert full["code"] == experiments[1].code and full["diff"] == experiments[1].diff
    for name in ("/lineage", "/lineage?kept=true", "/knobs", "/highlight.css", "/healthz",
                 "/static/vendor/htmx.min.js", "/static/vendor/chart.umd.min.js",
                 "/static/dashboard.js", "/static/dashboard.css"):
        assert http.get(name).status_code == 200, name


def test_candidate_text_is_escaped_everywhere(tmp_path):
    store, study = open_study(tmp_path / "s.db")
    base = baseline(store, study)
    bad = add(store, study, (0.0,), status=Status.CRASHED, failure=FailureKind.CRASH,
              parent=base, description=PAYLOAD, hypothesis=PAYLOAD, reason=PAYLOAD,
              category=PAYLOAD, knobs={"X": PAYLOAD}, log_tail=f"ok\n{PAYLOAD}\n",
              code=f"# {PAYLOAD}\nprint('{PAYLOAD}')\n", diff=f"+{PAYLOAD}\n")
    http = client(tmp_path / "s.db")
    pages = [http.get(url) for url in
             ("/", "/partials/table", "/partials/stats", f"/experiments/{bad.id}",
              f"/partials/experiments/{bad.id}", "/lineage", "/knobs")]
    for response in pages:
        assert response.status_code == 200
        assert "<script>window.__pwned" not in response.text, response.url
        assert "<img src=x" not in response.text, response.url
        assert "script-src 'self'" in response.headers["content-security-policy"]
    detail = pages[3].text
    assert "&lt;script&gt;window.__pwned = 1&lt;/script&gt;" in detail  # shown, as text
    assert detail.count("__pwned = 1") >= 6  # description, hypothesis, reason, log, code, diff
    # JSON inside <script type="application/json"> cannot close its tag either.
    assert "</script><img" not in http.get("/").text


def test_maximised_metric_reads_best_as_highest(tmp_path):
    store, study = open_study(tmp_path / "s.db", metric="accuracy", direction=Direction.MAX)
    base = baseline(store, study, 0.80)
    add(store, study, (0.90, 0.92), status=Status.KEPT, parent=base)
    add(store, study, (0.70, 0.72), parent=base)
    summary = client(tmp_path / "s.db").get("/api/summary").json()
    assert summary["best"] == pytest.approx(0.91) and summary["gain"] == pytest.approx(0.11)
    rows = client(tmp_path / "s.db").get(
        "/api/experiments", params={"sort": "metric", "order": "asc"}).json()["rows"]
    assert [round(r["metric"], 2) for r in rows] == [0.91, 0.8, 0.71]
    assert rows[-1]["gain"] == pytest.approx(-0.09)


def test_task_selector_and_default_study(tmp_path):
    path = tmp_path / "s.db"
    store, first = open_study(path, task="shakespeare")
    baseline(store, first)
    _, second = open_study(path, task="fashion_mnist", metric="error_rate")
    baseline(store, second, 0.2)
    newest = client(path).get("/api/summary").json()["study"]
    assert newest["task"] == "fashion_mnist"
    preferred = client(path, task="shakespeare").get("/api/summary").json()["study"]
    assert preferred["task"] == "shakespeare"
    page = client(path).get("/", params={"study": first.id}).text
    assert 'aria-label="study"' in page
    assert re.search(rf'<option value="\?study={first.id}" selected>\s*shakespeare', page)
    assert client(path).get("/api/summary", params={"study": 99}).status_code == 404


def test_empty_store_waits_for_a_study_and_errors_are_pages(tmp_path):
    path = tmp_path / "s.db"
    Store(path).close()
    http = client(path)
    page = http.get("/")
    assert page.status_code == 200 and "No study yet" in page.text
    assert "data-wait-for-study" in page.text
    assert http.get("/api/summary").json() == {"study": None}
    missing = http.get("/experiments/12345")
    assert missing.status_code == 404 and "no experiment with id 12345" in missing.text
    assert http.get("/api/experiments/12345").json() == {
        "error": "no experiment with id 12345 in this store"}
    gone = client(tmp_path / "nowhere.db").get("/")
    assert gone.status_code == 503 and "no store at" in gone.text


def test_running_experiment_detail_polls_until_finished(tmp_path):
    store, study = open_study(tmp_path / "s.db")
    base = baseline(store, study)
    running = add(store, study, (2.9,), status=None, parent=base)
    http = client(tmp_path / "s.db", refresh_seconds=1)
    live = http.get(f"/experiments/{running.id}").text
    assert f'hx-get="/partials/experiments/{running.id}"' in live and "still running" in live
    done = http.get(f"/experiments/{base.id}").text
    assert "hx-get=\"/partials/experiments/" not in done


def test_pipeline_study_shows_rankings_interactions_and_pruned(tmp_path):
    from autoresearch.analysis import pipeline as analysis
    from autoresearch.analysis.combo import Combo

    store, study = open_study(tmp_path / "s.db", task="kr-vs-kp", metric="accuracy",
                              direction=Direction.MAX)

    def combo(features: str, model: str, values: tuple[float, ...], **kw):
        knobs = Combo(slots={"engineer_features": features, "build_model": model}).knobs()
        return add(store, study, values, knobs=knobs, description=f"{features} + {model}", **kw)

    base = combo("none", "linear", (0.80, 0.80), status=Status.KEPT, mode=Mode.BASELINE)
    combo("onehot", "linear", (0.85, 0.85), status=Status.KEPT, parent=base)
    combo("none", "hgb", (0.88, 0.88), status=Status.KEPT, parent=base)
    combo("onehot", "hgb", (0.97, 0.97), status=Status.KEPT, parent=base)
    combo("none", "knn", (0.55, 0.56), parent=base)
    for _ in range(3):
        combo("none", "svm", (0.0,), status=Status.CRASHED, failure=FailureKind.CRASH,
              parent=base, reason="MemoryError")
    experiments = store.experiments(study)
    rankings = analysis.slot_rankings(experiments, study.metric)
    [interaction] = analysis.interactions(experiments, study.metric)
    pruned = analysis.pruned(experiments, study.metric)
    assert interaction.kind == "superadditive" and pruned  # the data exercises every table

    page = client(tmp_path / "s.db").get("/knobs").text
    for r in rankings:
        assert f'data-slot="{r.slot}" data-implementation="{r.implementation}"' in page
    assert page.index('data-implementation="hgb"') < page.index('data-implementation="knn"')
    assert 'data-kind="superadditive"' in page
    assert " + ".join(interaction.changes) in page and "build_model=hgb" in page
    assert f"{interaction.delta:+.4f}" in page
    for p in pruned:
        assert p.reason.replace("'", "&#39;").replace('"', "&#34;") in page
    assert 'data-knob="slots"' not in page  # nested combos are not shown as scalar knobs


def test_lineage_page_opens_large_studies_on_the_kept_tree(tmp_path, monkeypatch):
    from autoresearch.ui.dashboard import app as app_module

    store, study = long_study(tmp_path / "s.db", n=30)
    experiments = store.experiments(study)
    kept = sum(1 for e in experiments if e.status is Status.KEPT)
    http = client(tmp_path / "s.db")

    def rows(url: str) -> int:
        return len(re.findall(r'<li class="st-[a-z]+[^"]*" style="--depth', http.get(url).text))

    assert rows("/lineage") == len(experiments) == 31
    monkeypatch.setattr(app_module, "LINEAGE_ALL", 10)
    assert rows("/lineage") == kept < 31  # every kept one's ancestors are kept ones
    assert rows("/lineage?kept=false") == 31
    page = http.get("/lineage").text
    assert page.count('class="star"') == 1 and "best-path" in page
