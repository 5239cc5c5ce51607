"""End to end in real headless Chromium against the real server on a free port."""

from __future__ import annotations

from autoresearch.records import FailureKind, Status
from autoresearch.storage import Store
from autoresearch.ui.dashboard import create_app
from tests.browser import open_page, requires_chromium, screenshot, serve

from .stores import add, baseline, finish, long_study, open_study

ROWS = "table.experiments tbody tr[data-id]"
POINTS = "() => Number(document.querySelector('#progress')?.dataset.points || 0)"
pytestmark = requires_chromium


def test_real_run_live_update_and_detail(real_copy):
    store = Store(real_copy, create=False)
    [study] = store.studies()
    experiments = store.experiments(study)
    with serve(create_app(real_copy, refresh_seconds=1)) as url, \
            open_page(allow=(url,)) as tab:
        page = tab.page
        page.goto(url)
        page.wait_for_selector(ROWS)
        assert page.locator(ROWS).count() == len(experiments) == 3
        page.wait_for_function(f"() => ({POINTS})() >= 3")
        assert page.inner_text('[data-stat="experiments"]') == "2"

        # A result lands while the page is open: it must appear without a reload.
        page.evaluate("window.__sameDocument = true")
        new = add(store, study, (2.5, 2.6), status=Status.KEPT, parent=experiments[0],
                  description="written while the page was open")
        page.wait_for_selector(f'tr[data-id="{new.id}"]', timeout=15_000)
        page.wait_for_function(f"() => ({POINTS})() >= 4", timeout=15_000)
        page.wait_for_function(
            "() => document.querySelector('[data-stat=\"experiments\"]').textContent === '3'",
            timeout=15_000)
        assert page.evaluate("window.__sameDocument") is True
        assert page.inner_text('[data-stat="best"]') == "2.5500"
        screenshot(tab, "dashboard-live.png")

        page.click(f'tr[data-id="{new.id}"] td.desc a')
        page.wait_for_url(f"**/experiments/{new.id}")
        assert page.inner_text('[data-field="description"]') == "written while the page was open"
        assert page.inner_text('[data-field="parent"]') == "#0"
        page.wait_for_function("() => !!Chart.getChart(document.querySelector("
                               "'canvas[data-loss-curves]'))")
        page.goto(f"{url}/experiments/{experiments[1].id}")
        assert "harness.evaluate" in page.inner_text('[data-field="code"]')
        assert page.inner_text('[data-field="diff"]').startswith("---")
        screenshot(tab, "dashboard-detail.png", full_page=True)
        assert tab.errors == [] and tab.blocked == []
    store.close()


def test_sort_filter_and_page_in_the_browser(tmp_path):
    store, _ = long_study(tmp_path / "s.db", n=70)
    store.close()
    with serve(create_app(tmp_path / "s.db", refresh_seconds=1)) as url, \
            open_page(allow=(url,)) as tab:
        page = tab.page
        page.goto(url)
        page.wait_for_function(f"() => ({POINTS})() >= 71")
        assert page.locator(ROWS).count() == 50
        assert page.locator(ROWS).first.get_attribute("data-number") == "70"
        screenshot(tab, "dashboard-overview.png")

        page.click('button[data-sort="metric"]')  # best first
        page.wait_for_function("() => document.querySelector('input[name=sort]').value "
                               "=== 'metric'")
        page.wait_for_selector("th button.sort.active[data-sort='metric']")
        values = [float(v) for v in page.locator(f"{ROWS} td:nth-child(7)").all_inner_texts()
                  if v != "–"]
        assert values == sorted(values) and len(values) > 10
        assert "sort=metric" in page.url  # a reload keeps the view

        page.select_option('select[name="status"]', "kept")
        page.wait_for_function(f"() => [...document.querySelectorAll('{ROWS}')].every("
                               "r => r.classList.contains('st-kept'))")
        page.wait_for_timeout(1500)  # a poll in between must keep the filter
        assert all(c == "st-kept" for c in
                   page.locator(ROWS).evaluate_all("rows => rows.map(r => r.className)"))

        page.select_option('select[name="status"]', "")
        page.wait_for_selector("button[data-page='2']:not([disabled])")
        page.click("button[data-page='2']")
        page.wait_for_function(f"() => document.querySelectorAll('{ROWS}').length === 21")
        assert tab.errors == [] and tab.blocked == []


def test_script_in_a_candidate_log_is_shown_as_text(tmp_path):
    store, study = open_study(tmp_path / "s.db")
    base = baseline(store, study)
    payload = "<script>window.__pwned = 1</script>"
    bad = add(store, study, (0.0,), status=Status.CRASHED, failure=FailureKind.CRASH,
              parent=base, description=f"tries {payload}", reason=payload,
              log_tail=f"step 1\n{payload}\n<img src=x onerror=\"window.__pwned = 2\">\n")
    store.close()
    with serve(create_app(tmp_path / "s.db")) as url, open_page(allow=(url,)) as tab:
        page = tab.page
        page.goto(url)
        page.wait_for_selector(f'tr[data-id="{bad.id}"]')
        assert payload in page.inner_text(f'tr[data-id="{bad.id}"] td.desc')
        page.goto(f"{url}/experiments/{bad.id}")
        log = page.inner_text('pre.log[data-log-seed="42"]')
        assert payload in log and '<img src=x onerror="window.__pwned = 2">' in log
        assert page.inner_text('[data-field="reason"]') == payload
        assert page.evaluate("window.__pwned") is None
        assert page.locator("pre.log script, pre.log img").count() == 0
        screenshot(tab, "dashboard-escaped.png", full_page=True)
        assert tab.errors == [] and tab.blocked == []


def test_detail_of_a_running_experiment_follows_it_to_its_verdict(tmp_path):
    store, study = open_study(tmp_path / "s.db")
    base = baseline(store, study)
    running = add(store, study, (2.9,), status=None, parent=base, description="in flight")
    with serve(create_app(tmp_path / "s.db", refresh_seconds=1)) as url, \
            open_page(allow=(url,)) as tab:
        page = tab.page
        page.goto(f"{url}/experiments/{running.id}")
        assert page.inner_text("#experiment h1 .badge") == "running"
        page.evaluate("window.__sameDocument = true")
        finish(store, running, Status.KEPT, (2.8,))
        page.wait_for_function("() => document.querySelector('#experiment h1 .badge')"
                               ".textContent === 'kept'", timeout=15_000)
        assert page.evaluate("window.__sameDocument") is True
        assert page.locator("table.seeds tbody tr").count() == 2
        page.wait_for_function("() => !!Chart.getChart(document.querySelector("
                               "'canvas[data-loss-curves]'))")
        assert page.locator("#experiment[hx-get]").count() == 0  # polling stopped
        assert tab.errors == [] and tab.blocked == []
    store.close()


def test_study_selector_switches_study(tmp_path):
    path = tmp_path / "s.db"
    store, first = open_study(path, task="shakespeare")
    baseline(store, first, 3.0)
    _, second = open_study(path, task="fashion_mnist", metric="error_rate")
    base = baseline(store, second, 0.2)
    store.close()
    with serve(create_app(path, task="shakespeare")) as url, open_page(allow=(url,)) as tab:
        page = tab.page
        page.goto(f"{url}/experiments/{base.id}")
        page.select_option('select[aria-label="study"]', f"?study={first.id}")
        page.wait_for_url(f"{url}/?study={first.id}")
        assert "shakespeare: val_bpb" in page.inner_text(".study-meta")
        page.select_option('select[aria-label="study"]', f"?study={second.id}")
        page.wait_for_url(f"{url}/?study={second.id}")
        assert page.inner_text('[data-stat="best"]') == "0.2000"
        assert tab.errors == [] and tab.blocked == []
