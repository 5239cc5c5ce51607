"""The command line as a user runs it: real subprocesses, real store, seconds of training."""

from __future__ import annotations

import csv
import json
import re
import sqlite3
import subprocess
import sys

import pytest

from autoresearch.storage.schema import SCHEMA_VERSION

from .conftest import baseline_with, run_cli


def test_tasks_and_help(cli_env):
    out = run_cli(["tasks"], cli_env)
    assert out.returncode == 0 and "shakespeare" in out.stdout and "val_bpb" in out.stdout
    help_text = run_cli(["run", "--help"], cli_env).stdout
    for option in ("--task", "--train-seconds", "--max-experiments", "--seeds", "--storage",
                   "--time-budget", "--proposer"):
        assert option in help_text


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["run", "--task", "nope"], 2, "unknown task 'nope'"),
        (["run", "--task", "shakespeare", "--train-seconds", "0"], 2, "must be > 0"),
        (["run", "--task", "shakespeare", "--seeds", "a,b"], 2, "--seeds"),
        (["run", "--task", "shakespeare", "--proposer", "llm"], 2, "--proposer offline"),
        (["status", "--storage", "/nonexistent/dir/x.db"], 3, "no store"),
        (["export", "-o", "x.xlsx"], 2, ".tsv, .csv or .json"),
    ],
)
def test_bad_input_is_one_clear_line(cli_env, args, code, message):
    out = run_cli(args, cli_env)
    assert out.returncode == code, out.stderr
    assert message in " ".join(out.stderr.split())
    assert "Traceback" not in out.stderr


def test_newer_schema_store_is_refused(cli_env, tmp_path):
    path = tmp_path / "future.db"
    sqlite3.connect(path).execute(f"PRAGMA user_version = {SCHEMA_VERSION + 5}")
    out = run_cli(["run", "--task", "shakespeare", "--storage", str(path)], cli_env)
    assert out.returncode == 3 and "newer autoresearch" in out.stderr


def test_eval_json_on_a_good_and_a_broken_candidate(cli_env, tmp_path):
    good = tmp_path / "good.py"
    good.write_text(baseline_with(N_LAYER=1, N_EMBD=32))
    out = run_cli(["eval", "--task", "shakespeare", str(good), "--json", "--train-seconds", "1",
                   "--seeds", "42"], cli_env)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["status"] == "ok" and 2 < result["mean"] < 8.5
    assert result["seeds"][0]["seed"] == 42

    broken = tmp_path / "broken.py"
    broken.write_text("import harness\ndef f(:\n")
    out = run_cli(["eval", "--task", "shakespeare", str(broken), "--json"], cli_env)
    assert out.returncode == 5
    assert json.loads(out.stdout)["failure"] == "syntax"


def test_a_crash_message_with_brackets_is_printed_as_text(cli_env, tmp_path):
    crashing = tmp_path / "crashing.py"
    crashing.write_text("import harness\nraise ValueError('[/oops] [bold]not markup')\n"
                        "harness.evaluate(None)\n")
    out = run_cli(["eval", "--task", "shakespeare", str(crashing), "--seeds", "42"], cli_env)
    assert out.returncode == 5, out.stderr
    assert "[/oops] [bold]not markup" in out.stdout and "Traceback" not in out.stderr


@pytest.mark.slow
def test_run_status_export_end_to_end(cli_env, tmp_path):
    out = run_cli(["run", "--task", "shakespeare", "--max-experiments", "3", "--train-seconds",
                   "1", "--screen", "0.5"], cli_env)
    assert out.returncode == 0, out.stderr
    assert "baseline" in out.stdout and "best" in out.stdout
    assert "screening, 50% of the budget: seed 42" in out.stdout
    status = run_cli(["status", "--task", "shakespeare"], cli_env)
    assert status.returncode == 0 and "val_bpb" in status.stdout
    target = tmp_path / "results.tsv"
    exported = run_cli(["export", "--task", "shakespeare", "-o", str(target)], cli_env)
    assert exported.returncode == 0
    rows = list(csv.DictReader(target.open(), delimiter="\t"))
    assert len(rows) == 4 and rows[0]["mode"] == "baseline" and rows[0]["status"] == "kept"
    for row in rows[1:]:
        assert row["status"] in {"kept", "discarded", "invalid", "crashed", "timeout", "oom",
                                 "diverged"}
        assert row["description"] and row["category"]
        # which sampler proposed it, and its screening run (a proposal that failed has none)
        assert row["proposer"].startswith("offline:")
        assert row["screens"].startswith("42:0.5:") or row["status"] == "invalid"
    # A second run with the same limit has nothing to do and says so.
    again = run_cli(["run", "--task", "shakespeare", "--max-experiments", "3",
                     "--train-seconds", "1"], cli_env)
    assert again.returncode == 0 and "raise it to continue" in again.stdout


COMMANDS = ("run", "baseline", "eval", "status", "export", "tasks", "doctor", "report",
            "dashboard", "init", "replay", "ablate")


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("mistake", [["--bogus"], ["--projectt", "x"], ["--seeds"]])
def test_a_mistyped_option_prints_usage_and_exits_2(cli_env, command, mistake):
    out = run_cli([command, *mistake], cli_env, timeout=120)
    assert out.returncode == 2, (command, mistake, out.stdout, out.stderr)
    assert "Error:" in out.stderr and "Traceback" not in out.stderr + out.stdout
    if mistake[0] != "--seeds":  # an unknown option shows the usage; a missing value says so
        assert "Usage:" in out.stderr


def test_every_command_is_covered_by_the_mistyped_option_test(cli_env):
    listed = run_cli(["--help"], cli_env).stdout
    assert set(re.findall(r"│ (\w+)\s{2,}", listed)) <= set(COMMANDS)
    assert all(c in listed for c in COMMANDS)


def test_the_command_line_starts_without_the_heavy_libraries():
    """Optuna, SciPy, pandas and torch cost 0.1-1 s each to import; a command that does not
    use them does not wait for them, and a tabular run starts its workers sooner."""
    probe = ("import sys, autoresearch.cli\n"
             "print([m for m in ('optuna', 'scipy', 'pandas', 'sklearn', 'torch') "
             "if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"
