"""`ablate`, `replay` and the views of their results, on a real small shakespeare study."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from autoresearch.cli import _common as c
from autoresearch.engine import ResearchLoop, RunSettings
from autoresearch.execution import make_executor
from autoresearch.records import Mode, Proposal, Status
from autoresearch.sandbox import JobOptions
from autoresearch.search.acceptance import Acceptance
from autoresearch.search.proposer import ProposalContext
from autoresearch.search.strategy import Plan, Strategy
from autoresearch.storage import Store
from autoresearch.tasks import get_task

from .conftest import baseline_with, copy_store, run_cli, store_made_once

TASK = get_task("shakespeare")


class Chain(Strategy):
    """Each experiment builds on the one before: a single lineage."""

    def plans(self, history, number, rng, busy, count):
        return [Plan(Mode.INCREMENTAL, history[-1])]


class Script:
    name = "script"

    def __init__(self, codes: list[str]) -> None:
        self.codes = codes

    def propose(self, context: ProposalContext) -> Proposal:
        return Proposal(code=self.codes.pop(0), description=f"step {context.number}",
                        category="test", mode=context.mode, parent_id=context.parent.id,
                        proposer=self.name)


@pytest.fixture(scope="session")
def study_store(shakespeare_data, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """baseline -> #1 BLOCK_SIZE 64 (a large gain at 1 s) -> #2 + a constant nothing reads;
    both kept whatever the noise (a keep floor far below zero), as the store a `run` leaves.
    Trained once per test session, even across xdist workers; each test gets a copy."""
    return store_made_once(tmp_path_factory, "verify-study",
                           lambda path: _train_study(path, shakespeare_data))


def _train_study(path: Path, data) -> None:
    codes = [baseline_with(BLOCK_SIZE=64)]
    codes.append(codes[0] + "\nUNUSED = 1\n")
    store = Store(path)
    executor = make_executor("local", 1)
    record = store.study(TASK.name, TASK.metric, 1.0, data.content_hash, data.source,
                         c.study_setup(executor, "local", "auto"))
    loop = ResearchLoop(task=TASK, data=data, store=store, study=record,
                        proposer=Script(codes), strategy=Chain(TASK.metric),
                        acceptance=Acceptance(TASK.metric, min_delta=-100.0),
                        executor=executor, settings=RunSettings(JobOptions(1.0, device="auto")))
    try:
        loop.baseline()
        loop.run(2)
    finally:
        executor.shutdown()
        store.close()
    assert [e.status for e in loop.history()] == [Status.KEPT] * 3, loop.history()[-1].reason


@pytest.fixture()
def study(cli_env, study_store: Path):
    """The study above, in this test's own store (the tests add runs to it)."""
    store = Store(copy_store(study_store, Path(cli_env["AUTORESEARCH_STORAGE"])))
    try:
        return store.experiments(store.studies(TASK.name)[-1])
    finally:
        store.close()


def test_ablate_measures_each_kept_change_and_the_views_show_it(cli_env, study, tmp_path):
    out = run_cli(["ablate", "2", "--task", "shakespeare"], cli_env)
    assert out.returncode == 0, out.stderr
    text = " ".join(out.stdout.split())
    assert "What mattered for #2" in text
    assert re.search(r"#3 .*#1 ~BLOCK_SIZE \(128 -> 64\)", text), text
    assert re.search(r"#4 .*#2 \+UNUSED", text), text
    assert "smallest change from the baseline that keeps the gain:" in text
    for verdict in re.findall(r"(mattered|no effect|hurt|removing it breaks the code)", text):
        assert verdict  # every row ends in one of the verdicts
    exported = tmp_path / "all.json"
    out = run_cli(["export", "--task", "shakespeare", "-o", str(exported)], cli_env)
    assert out.returncode == 0, out.stderr
    rows = json.loads(exported.read_text())["experiments"]
    ablations = [r for r in rows if r["mode"] == "ablation"]
    # a third ablation removes both changes at once; it is measured only when neither change
    # had an effect on its own, which a loaded machine can make of BLOCK_SIZE at 1 s
    both = "#5 " in text
    assert len(ablations) == 2 + both and {r["status"] for r in ablations} == {"measured"}
    assert {r["parent"] for r in ablations} == {2}
    assert rows[1]["changed"] == "~BLOCK_SIZE (128 -> 64)" and rows[2]["changed"] == "+UNUSED"
    status = " ".join(run_cli(["status", "--task", "shakespeare"], cli_env).stdout.split())
    assert "measured" in status and "changed" in status
    report = tmp_path / "report.html"
    assert run_cli(["report", "--task", "shakespeare", "-o", str(report)],
                   cli_env).returncode == 0
    html = report.read_text()
    assert "What mattered" in html and "~BLOCK_SIZE (128 -&gt; 64)" in html


def test_replay_stores_the_new_runs_and_gives_a_verdict(cli_env, study):
    before = len(study[1].seed_runs)
    out = run_cli(["replay", "1", "--task", "shakespeare"], cli_env)
    assert out.returncode in (0, 8), out.stderr  # 8: it did not reproduce (the verdict)
    text = " ".join(out.stdout.split())
    assert re.search(r"#1 (reproduces|does NOT reproduce) within the study's noise: replay "
                     r"minus recorded [+-]\d", text), text
    assert "seed 42: recorded val_bpb" in text and "seed 137: recorded val_bpb" in text
    store = Store(cli_env["AUTORESEARCH_STORAGE"], create=False)
    try:
        again = next(e for e in store.experiments(store.studies("shakespeare")[-1])
                     if e.number == 1)
    finally:
        store.close()
    assert len(again.seed_runs) == before + 2
    assert sorted(r.measurement for r in again.seed_runs if r.seed == 42)[-1] >= 1
    missing = run_cli(["replay", "99", "--task", "shakespeare"], cli_env)
    assert missing.returncode == 2 and "no experiment #99" in missing.stderr


@pytest.mark.parametrize(("args", "message"), [
    (["ablate", "--task", "shakespeare", "--bogus"], "No such option"),
    (["replay", "--task", "shakespeare"], "Missing argument"),
    (["replay", "1", "--task", "shakespeare"], "no store"),
])
def test_bad_input_to_replay_and_ablate_is_a_usage_error(cli_env, args, message):
    out = run_cli(args, cli_env)
    assert out.returncode in (2, 3) and message in out.stderr, out.stderr
    assert "Traceback" not in out.stderr
