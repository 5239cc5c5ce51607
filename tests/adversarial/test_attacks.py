"""Every attack file runs through `autoresearch eval` and must end exactly as its header says.

Whatever happens, no faked metric is ever reported as a success, and the framework's own
process (the CLI) exits normally with its documented exit code.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from autoresearch.sandbox import JobOptions, SeedJob, run_seed
from autoresearch.sandbox.isolation import detect
from autoresearch.storage import Store
from autoresearch.tasks import get_task

from ..conftest import run_cli
from .conftest import Attack, attacks, daemon_alive

HONEST_ZERO_MODEL_BPB = 8.0  # the attacks that report do so with an all-zero model
SECRET = "sk-test-secret-do-not-leak"
ESCAPE_MARKER = Path("/tmp/autoresearch-escape-marker")

EVAL_ATTACKS = attacks("attacks")
RUNTIME_ATTACKS = attacks("runtime")
ISOLATION = detect()
needs_bwrap = pytest.mark.skipif(not ISOLATION.bwrap, reason="bubblewrap is not installed")


def test_the_suite_is_big_enough():
    assert len(EVAL_ATTACKS) + len(RUNTIME_ATTACKS) >= 25


def _check_no_forgery(result: dict) -> None:
    for seed in result["seeds"]:
        if seed["metric"] is not None:
            assert seed["metric"] == pytest.approx(HONEST_ZERO_MODEL_BPB, abs=0.05)


@pytest.mark.xdist_group("host-port")
@pytest.mark.parametrize("attack", EVAL_ATTACKS, ids=lambda a: a.name)
def test_attack_through_eval(attack: Attack, cli_env, tmp_path, host_server):
    store = tmp_path / "store.db"
    Store(store).close()
    ESCAPE_MARKER.unlink(missing_ok=True)
    env = {**cli_env, "ANTHROPIC_API_KEY": SECRET, "OPENAI_API_KEY": SECRET}
    received_before = len(host_server.received)
    candidate = tmp_path / attack.path.name
    candidate.write_text(host_server.code(attack))
    out = run_cli(["eval", "--task", "shakespeare", str(candidate), "--json",
                   "--train-seconds", "1", "--seeds", "42", "--grace", "30",
                   "--storage", str(store)], env, timeout=300)
    assert "Traceback" not in out.stderr, out.stderr
    result = json.loads(out.stdout)
    logs = " ".join(s.get("log_tail", "") for s in result["seeds"])
    if attack.status == "ok":
        assert out.returncode == 0, result
        assert result["status"] == "ok" and result["failure"] is None
    else:
        assert out.returncode == 5, result
        assert (result["status"], result["failure"]) == (attack.status, attack.failure), result
        assert result["mean"] is None
    _check_no_forgery(result)
    assert SECRET not in logs
    if ISOLATION.bwrap or ISOLATION.unshare:
        assert len(host_server.received) == received_before, "data reached the host's server"
    if ISOLATION.bwrap:
        assert not ESCAPE_MARKER.exists(), "a file was written outside the sandbox"
        assert "LEAKED" not in logs


@pytest.mark.xdist_group("host-port")
@pytest.mark.parametrize("attack", RUNTIME_ATTACKS, ids=lambda a: a.name)
def test_runtime_layers_hold_without_the_validator(attack: Attack, shakespeare_data,
                                                   host_server):
    """The same kind of attacks, run with the validator skipped: the sandbox alone holds."""
    if attack.name == "write_package" and not ISOLATION.bwrap:
        pytest.skip("without bubblewrap the package is writable by root: validator only")
    if attack.name == "fork_bomb_posix" and ISOLATION.cgroups is None:
        pytest.skip("no cgroup here to bound the number of processes")
    task = get_task("shakespeare")
    received_before = len(host_server.received)
    run = run_seed(SeedJob.of(host_server.code(attack), 42, task.harness_module,
                              shakespeare_data.directory,
                              JobOptions(budget_seconds=1.0, grace_seconds=20)))
    status = "ok" if run.failure is None else run.failure.status.value
    assert (status, run.failure.value if run.failure else None) == \
        (attack.status, attack.failure), run.reason
    if run.metric is not None:
        assert run.metric == pytest.approx(HONEST_ZERO_MODEL_BPB, abs=0.05)
    assert len(host_server.received) == received_before
    assert not daemon_alive("600.0424242"), "a daemon outlived its run"
    assert "PACKAGE_WRITABLE" not in run.log_tail
