"""Size and build time of the HTML report for studies of 100 and 1,000 experiments.

    python bench/report.py [--experiments 100 1000] [--repeat 3]

Writes synthetic studies through the real Store API (real knob edits of the shakespeare
baseline, two seeds each, ~20% failures of every kind, LLM token usage and cost: every section
of the report is drawn), then times reading the study back, building the report in process
(best of --repeat), and the whole `autoresearch report` command in a subprocess (imports
included), as wall and CPU seconds (CPU time says what a quiet machine would take when others
share the cores). Prints one row per size: file sizes inline and with --cdn.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the synthetic study builder

from tests.report.synthetic import Shape, build

from autoresearch.ui.report import ReportOptions, render_report


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measure(experiments: int, repeat: int, folder: Path) -> dict[str, float]:
    path = folder / f"bench-{experiments}.db"
    store, study = build(path, Shape(experiments=experiments, llm_cost=True))
    t0 = time.perf_counter()
    loaded = store.experiments(study)
    load = time.perf_counter() - t0
    builds, cpus, html = [], [], ""
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        html = render_report(study, loaded)
        builds.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    cdn = render_report(study, loaded, ReportOptions(cdn=True))
    store.close()
    target = folder / f"report-{experiments}.html"
    t0, c0 = time.perf_counter(), _children_cpu()
    subprocess.run([sys.executable, "-m", "autoresearch", "report", "--task", "shakespeare",
                    "--storage", str(path), "-o", str(target)], check=True,
                   capture_output=True)
    command, command_cpu = time.perf_counter() - t0, _children_cpu() - c0
    return {"load": load, "build": min(builds), "build_cpu": min(cpus), "command": command,
            "command_cpu": command_cpu,
            "inline_mb": len(html.encode()) / 1e6, "cdn_kb": len(cdn.encode()) / 1e3}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--experiments", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    table = Table(title="autoresearch report: size and build time")
    for column in ("experiments", "read store", "build: wall / CPU", "`report`: wall / CPU",
                   "size inline", "size --cdn"):
        table.add_column(column, justify="right")
    with tempfile.TemporaryDirectory() as folder:
        for n in args.experiments:
            r = measure(n, args.repeat, Path(folder))
            table.add_row(f"{n:,}", f"{r['load']:.2f} s",
                          f"{r['build']:.2f} / {r['build_cpu']:.2f} s",
                          f"{r['command']:.2f} / {r['command_cpu']:.2f} s",
                          f"{r['inline_mb']:.2f} MB",
                          f"{r['cdn_kb']:.0f} KB")
    Console(width=110).print(table)


if __name__ == "__main__":
    main()
