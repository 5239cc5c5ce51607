"""`autoresearch dashboard` as a user runs it: a real subprocess serving a real store."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from tests.browser import free_port, wait_for_http
from tests.conftest import run_cli

from .stores import baseline, open_study


@pytest.fixture()
def store_path(tmp_path: Path) -> Path:
    store, study = open_study(tmp_path / "runs.db")
    baseline(store, study)
    store.close()
    return tmp_path / "runs.db"


def start(args: list[str]) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "autoresearch", "dashboard", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "COLUMNS": "200"})


def stop(process: subprocess.Popen[str]) -> tuple[int, str, str]:
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=30)
    return process.returncode, out, err


def test_serves_the_store_and_stops_cleanly_on_ctrl_c(store_path):
    port = free_port()
    process = start(["--storage", str(store_path), "--port", str(port), "--refresh", "2"])
    try:
        wait_for_http(f"http://127.0.0.1:{port}/api/summary")
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/summary") as response:
            assert json.load(response)["study"]["task"] == "shakespeare"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/") as response:
            assert 'hx-trigger="every 2.0s"' in response.read().decode()
    finally:
        code, out, err = stop(process)
    assert code == 0, err
    assert f"at http://127.0.0.1:{port}" in out and "dashboard stopped" in out
    assert "warning" not in err and "Traceback" not in err


def test_binding_beyond_loopback_warns_there_is_no_authentication(store_path):
    port = free_port("0.0.0.0")
    process = start(["--storage", str(store_path), "--host", "0.0.0.0", "--port", str(port)])
    try:
        wait_for_http(f"http://127.0.0.1:{port}/api/summary")
    finally:
        code, _, err = stop(process)
    assert code == 0
    assert "no authentication" in " ".join(err.split())


def test_bad_input_is_one_clear_line(store_path, tmp_path):
    env = {**os.environ, "COLUMNS": "200"}
    missing = run_cli(["dashboard", "--storage", str(tmp_path / "none.db")], env)
    assert missing.returncode == 3 and "no store at" in missing.stderr
    other = run_cli(["dashboard", "--storage", str(store_path), "--task", "cifar10"], env)
    assert other.returncode == 2 and "no study for task 'cifar10'" in other.stderr
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        taken = run_cli(["dashboard", "--storage", str(store_path), "--port", str(port)], env)
    assert taken.returncode == 2 and f"cannot listen on 127.0.0.1:{port}" in taken.stderr
    for out in (missing, other, taken):
        assert "Traceback" not in out.stderr and len(out.stderr.strip().splitlines()) <= 2
