"""Every attack file runs through `autoresearch eval` and must end exactly as its header says.

Whatever happens, no faked metric is ever reported as a success, and the framework's own
process (the CLI) exits normally with its documented exit code. Every attack that gets past
its defence ends by handing over an honest model, so a defence that fails makes its test fail
(the run would end "ok", or with a score other than the honest one, or print LEAKED).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from autoresearch.sandbox import JobOptions, Limits, run_seed
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
IMAGE_ATTACKS = attacks("images")
ISOLATION = detect()
CONTAINED = bool(ISOLATION.bwrap or ISOLATION.unshare)  # a file system view of the run's own


def test_the_suite_is_big_enough():
    assert len(EVAL_ATTACKS) + len(RUNTIME_ATTACKS) + len(IMAGE_ATTACKS) >= 50


def _check_no_forgery(result: dict, honest: float | None = HONEST_ZERO_MODEL_BPB) -> None:
    for seed in result["seeds"]:
        if seed["metric"] is not None and honest is not None:
            assert seed["metric"] == pytest.approx(honest, abs=0.05)


def _eval(task: str, candidate: Path, env: dict[str, str], store: Path,
          *extra: str) -> tuple[int, dict, str]:
    out = run_cli(["eval", "--task", task, str(candidate), "--json", "--train-seconds", "1",
                   "--seeds", "42", "--grace", "30", "--storage", str(store), *extra],
                  env, timeout=300)
    assert "Traceback" not in out.stderr, out.stderr
    result = json.loads(out.stdout)
    return out.returncode, result, " ".join(s.get("log_tail", "") for s in result["seeds"])


def _check_outcome(attack: Attack, code: int, result: dict) -> None:
    if attack.status == "ok":
        assert code == 0, result
        assert result["status"] == "ok" and result["failure"] is None
    else:
        assert code == 5, result
        assert (result["status"], result["failure"]) == (attack.status, attack.failure), result
        assert result["mean"] is None


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
    code, result, logs = _eval("shakespeare", candidate, env, store)
    _check_outcome(attack, code, result)
    _check_no_forgery(result)
    assert SECRET not in logs
    assert "FORGED" not in logs
    if CONTAINED:
        assert len(host_server.received) == received_before, "data reached the host's server"
        assert not ESCAPE_MARKER.exists(), "a file was written outside the sandbox"
        assert "LEAKED" not in logs


@pytest.mark.parametrize("attack", IMAGE_ATTACKS, ids=lambda a: a.name)
def test_image_attack_through_eval(attack: Attack, small_fashion_cache, cli_env, tmp_path):
    store = tmp_path / "store.db"
    candidate = tmp_path / attack.path.name
    candidate.write_text(attack.path.read_text())
    env = {**cli_env, "AUTORESEARCH_CACHE": str(small_fashion_cache)}
    code, result, _ = _eval("fashion_mnist", candidate, env, store)
    _check_outcome(attack, code, result)


def test_sealed_files_are_hidden_whatever_the_cache_dir(cli_env, outside_cache):
    """A cache dir outside the temporary and home folders that bubblewrap masks by default:
    the run still sees no data file (the data directory itself is hidden)."""
    get_task("shakespeare").prepare(outside_cache, offline=True)
    candidate = outside_cache / "attack.py"
    candidate.write_text(f"""import glob

import torch

import harness

root = "/".join({["", *outside_cache.parts[1:]]!r})  # a literal path would not validate
for path in glob.glob(root + "/**/*.bin", recursive=True):
    try:
        with open(path, "rb") as handle:
            print("LEAKED", path, len(handle.read()))
    except OSError:
        pass
model = torch.nn.Embedding(256, 256).to(harness.DEVICE)
torch.nn.init.zeros_(model.weight)
harness.evaluate(model, context=64)
""")
    env = {**cli_env, "AUTORESEARCH_CACHE": str(outside_cache)}
    code, result, logs = _eval("shakespeare", candidate, env, outside_cache / "store.db")
    assert code == 0, result
    _check_no_forgery(result)
    if CONTAINED:
        assert "LEAKED" not in logs


@pytest.mark.xdist_group("host-port")
@pytest.mark.parametrize("attack", RUNTIME_ATTACKS, ids=lambda a: a.name)
def test_runtime_layers_hold_without_the_validator(attack: Attack, shakespeare_data,
                                                   host_server):
    """The same kind of attacks, run with the validator skipped: the sandbox alone holds."""
    if attack.name in ("write_package", "socket_host", "kill_parent_posix") and not CONTAINED:
        pytest.skip("without bubblewrap or unshare the run shares the host's file system "
                    "and network")
    if attack.name == "fork_bomb_posix" and ISOLATION.cgroups is None:
        pytest.skip("no cgroup here to bound the number of processes")
    ESCAPE_MARKER.unlink(missing_ok=True)
    task = get_task("shakespeare")
    received_before = len(host_server.received)
    # A low process ceiling, so the fork bomb meets it long before the parent's deadline even
    # on a busy machine (forking a process that holds torch is slow).
    options = JobOptions(budget_seconds=1.0, grace_seconds=20, limits=Limits(processes=128))
    run = run_seed(task.seed_job(host_server.code(attack), 42, shakespeare_data, options))
    status = "ok" if run.failure is None else run.failure.status.value
    assert (status, run.failure.value if run.failure else None) == \
        (attack.status, attack.failure), run.reason
    if run.metric is not None:
        assert run.metric == pytest.approx(HONEST_ZERO_MODEL_BPB, abs=0.05)
    assert len(host_server.received) == received_before
    assert not daemon_alive("600.0424242"), "a daemon outlived its run"
    assert "PACKAGE_WRITABLE" not in run.log_tail
    assert "LEAKED" not in run.log_tail
    assert not ESCAPE_MARKER.exists(), "a file was written outside the sandbox"
