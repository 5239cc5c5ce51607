"""The two fixture projects (tests/fixtures/), driven by README's own commands, verbatim: a
nanoGPT-style trainer and the karpathy/autoresearch layout. Real CLI, real torch training
(seconds), offline search."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def readme_block(name: str) -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(rf"<!-- fixture: {name} -->\n```bash\n(.*?)```", text, re.DOTALL)
    assert match, f"README has no block for the {name} fixture"
    return match[1]


def run_block(name: str, tmp_path: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    """README's commands with /tmp/ moved into the test's folder; `python` and `autoresearch`
    are this interpreter's."""
    script = "set -ex\n" + readme_block(name).replace("/tmp/", f"{tmp_path}/")
    env = {**env, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"}
    return subprocess.run(["bash", "-c", script], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=900)


def kept_gain(output: str) -> float:
    match = re.search(r"baseline ([\d.]+)\s+best ([\d.]+) \(#\d+, gain \+([\d.]+).*?kept (\d+)",
                      " ".join(output.split()))
    assert match, output
    assert int(match[4]) >= 1, output
    return float(match[3])


def test_nanogpt_trainer_with_a_configurator_a_fixed_seed_and_a_checkpoint(cli_env, tmp_path):
    out = run_block("nanogpt", tmp_path, cli_env)
    text = " ".join(out.stdout.split())
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    assert (tmp_path / "nanogpt" / "pyproject.toml").exists() is False
    assert 'command = "python train.py config/train_tiny.py"' in (
        tmp_path / "nanogpt" / "autoresearch.toml").read_text()
    # Before the baseline: the knob the config file overrides is named and left alone.
    assert ("knob dropout (train.py line 27) is overridden by config/train_tiny.py" in text)
    assert text.index("knob dropout") < text.index("#0 baseline")
    assert "dropout 0.0 ->" not in text
    # The leftover checkpoint of the manual run is an output, not an integrity failure.
    assert "the baseline overwrote out/ckpt.pt" in text and "integrity" not in text
    assert "every seed gave the same val_loss bit for bit: the script ignores its seed" in text
    assert "0 steps" not in text
    assert kept_gain(out.stdout) > 0
    assert "project:nanogpt" in text and "kept" in text  # `autoresearch status`


def test_karpathy_layout_works_with_one_command(cli_env, tmp_path):
    out = run_block("karpathy", tmp_path, cli_env)
    text = " ".join(out.stdout.split())
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    assert "project:karpathy: val_bpb ↓" in text and "warning" not in text
    assert "ignores its seed" not in text  # seeded from AUTORESEARCH_SEED
    assert kept_gain(out.stdout) > 0


@pytest.mark.parametrize("name", ["nanogpt", "karpathy"])
def test_the_fixture_files_are_what_the_readme_says(name):
    fixture = ROOT / "tests" / "fixtures" / name
    assert (fixture / "train.py").is_file()
    if name == "karpathy":
        assert all((fixture / f).is_file() for f in ("prepare.py", "program.md", "data.txt"))
        assert "AUTORESEARCH_TIME_BUDGET" in (fixture / "prepare.py").read_text()
    else:
        train = (fixture / "train.py").read_text()
        assert "torch.manual_seed(1337)" in train and "exec(open('configurator.py')" in train
