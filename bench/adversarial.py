"""Every attack of the adversarial suite, with and without bubblewrap, side by side.

    python bench/adversarial.py

Runs each attack file of tests/adversarial/attacks through the real `eval` path (validator,
then sandbox) and each file of tests/adversarial/runtime with the validator skipped, once with
AUTORESEARCH_SANDBOX=auto (bubblewrap when installed) and once with AUTORESEARCH_SANDBOX=unshare
(no bubblewrap: network and PID namespaces, cgroups), and prints what was recorded and whether
anything leaked (host file written, host server reached, daemon alive, secret or split read).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.adversarial.conftest import HostServer, attacks, daemon_alive  # noqa: E402

SECRET = "sk-bench-secret"
MARKER = Path("/tmp/autoresearch-escape-marker")
LEAK_WORDS = ("LEAKED", "PACKAGE_WRITABLE", SECRET)


def _leaks(log: str, server: HostServer, received_before: int) -> list[str]:
    found = [w for w in LEAK_WORDS if w in log]
    if MARKER.exists():
        found.append("host file written")
    if len(server.received) > received_before:
        found.append("host server reached")
    if daemon_alive("600.0424242"):
        found.append("daemon alive")
    return found


def worker() -> None:
    from autoresearch.sandbox import JobOptions, validate
    from autoresearch.sandbox.evaluator import Evaluator
    from autoresearch.sandbox.runner import evaluator_key, run_seed
    from autoresearch.tasks import get_task

    task = get_task("shakespeare")
    data = task.prepare(Path(tempfile.gettempdir()) / "autoresearch-bench-cache", offline=True)
    os.environ["ANTHROPIC_API_KEY"] = SECRET
    server = HostServer()
    evaluators: dict = {}  # one warm evaluator, as the executors keep one
    rows = []
    for group, validated in (("attacks", True), ("runtime", False)):
        for attack in attacks(group):
            MARKER.unlink(missing_ok=True)
            before = len(server.received)
            code = server.code(attack)
            check = validate(code) if validated else None
            if check is not None and not check.ok:
                outcome, log, layers = f"{check.failure.status.value}/{check.failure.value}", "", []
            else:
                job = task.seed_job(code, 42, data, JobOptions(budget_seconds=1.0,
                                                               grace_seconds=30))
                run = run_seed(job, evaluator=evaluators.setdefault(
                    evaluator_key(job), Evaluator(evaluator_key(job))))
                outcome = "ok" if run.failure is None else \
                    f"{run.failure.status.value}/{run.failure.value}"
                log, layers = run.log_tail, list(run.sandbox)
            expected = attack.status + (f"/{attack.failure}" if attack.failure else "")
            rows.append({"attack": f"{group}/{attack.name}", "expected": expected,
                         "outcome": outcome, "leaks": _leaks(log, server, before),
                         "layers": layers})
    server.close()
    for evaluator in evaluators.values():
        evaluator.close()
    print(json.dumps(rows))


def main() -> None:
    parser = argparse.ArgumentParser(description="adversarial suite, with and without bwrap")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    if parser.parse_args().worker:
        worker()
        return
    results = {}
    for mode in ("auto", "unshare"):
        env = {**os.environ, "AUTORESEARCH_SANDBOX": mode}
        out = subprocess.run([sys.executable, __file__, "--worker"], env=env, capture_output=True,
                             text=True, check=True)
        results[mode] = {r["attack"]: r for r in json.loads(out.stdout.splitlines()[-1])}
    table = Table(title="adversarial suite: recorded outcome (and leaks) per sandbox")
    for column in ("attack", "expected", "with bubblewrap", "without bubblewrap"):
        table.add_column(column)
    for name, row in results["auto"].items():
        cells = []
        for mode in ("auto", "unshare"):
            r = results[mode][name]
            mark = "" if r["outcome"] == r["expected"] else " (!)"
            leak = f" LEAK: {', '.join(r['leaks'])}" if r["leaks"] else ""
            cells.append(f"{r['outcome']}{mark}{leak}")
        table.add_row(name, row["expected"], *cells)
    console = Console(width=160)
    console.print(table)
    for mode in ("auto", "unshare"):
        layers = next((r["layers"] for r in results[mode].values() if r["layers"]), [])
        console.print(f"{mode}: layers {', '.join(layers)}")


if __name__ == "__main__":
    main()
