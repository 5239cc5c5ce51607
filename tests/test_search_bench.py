"""bench/search_efficiency.py at a tiny budget: the searches run, the table and the ratios
print (the figures themselves come from the full run on an idle machine, see README)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).parents[1] / "bench" / "search_efficiency.py"


def test_the_search_benchmark_runs_every_search_and_prints_the_ratios(cli_env):
    done = subprocess.run(
        [sys.executable, str(BENCH), "--train-seconds", "1", "--equivalents", "3",
         "--every", "3", "--repeats", "1", "--searches", "screened,greedy,random",
         "--eval-seeds", "7", "--max-foreign-load", "1"],
        env=cli_env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    for name in ("screened", "greedy", "random"):  # ours is screened without screening
        assert f"{name} #0: best" in done.stdout
    assert "re-scored gain" in done.stdout and "screened / greedy" in done.stdout


def test_the_tabular_comparison_runs_at_equal_fold_fits(cli_env):
    done = subprocess.run([sys.executable, str(BENCH), "--tabular", "heart-statlog", "-n", "3",
                           "--repeats", "1"], env=cli_env, capture_output=True, text=True,
                          timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    text = " ".join(done.stdout.split())  # rich wraps the title at the console's width
    assert "random combos at equal fold fits" in text and "random #0" in text
