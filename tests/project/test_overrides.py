"""Knobs a script overrides after setting them are found by reading the code, before any run."""

from __future__ import annotations

from autoresearch.tasks._project.overrides import find_overrides, fixed_knobs

from .conftest import make_project

NANO = '''learning_rate = 1e-4  # search: log 1e-5..1e-2
dropout = 0.0  # search: float 0.0..0.3
batch_size = 16  # search: choice 8,16
exec(open('configurator.py').read())
late = 1  # search: int 1..4
'''
CONFIGURATOR = "import sys\nfor arg in sys.argv[1:]:\n    exec(open(arg).read())\n"


def overrides(project, command, code, edit=("train.py",)):
    return {o.knob: o for o in find_overrides(project, command, edit, code)}


def test_a_config_file_or_a_key_value_argument_overrides_knobs_set_before_the_exec(tmp_path):
    project = make_project(tmp_path / "p")
    (project / "configurator.py").write_text(CONFIGURATOR)
    (project / "config").mkdir(exist_ok=True)
    (project / "config" / "tiny.py").write_text("dropout = 0.2\nlate = 3\n")
    found = overrides(project, "python train.py config/tiny.py --batch_size=8", NANO)
    assert set(found) == {"dropout", "batch_size"}  # `late` is set after the exec: it wins
    assert found["dropout"].certain and "config/tiny.py" in found["dropout"].by
    assert "--batch_size=8" in found["batch_size"].by
    assert fixed_knobs(list(found.values())) == {"dropout", "batch_size"}
    assert overrides(project, "python train.py", NANO) == {}  # nothing handed to it
    # With the config file editable, its own (candidate) text is what counts.
    both = find_overrides(project, "python train.py config/tiny.py",
                          ("train.py", "config/tiny.py"),
                          f"# autoresearch-file: train.py\n{NANO}"
                          "# autoresearch-file: config/tiny.py\nbatch_size = 8\n")
    assert {o.knob for o in both} == {"batch_size"}


def test_reassignment_argparse_and_globals(tmp_path):
    project = make_project(tmp_path / "p")
    code = ('import argparse\nLR = 0.1  # search: log 0.01..1\nWD = 0.1  # search: float 0..1\n'
            'DROP = 0.1  # search: float 0..1\nLR = 0.5\n'
            'p = argparse.ArgumentParser()\np.add_argument("--wd", type=float, default=WD)\n'
            'args = p.parse_args()\nglobals().update(vars(args))\n')
    found = overrides(project, "python train.py --wd 0.3", code)
    assert found["LR"].certain and "line 5" in found["LR"].by
    assert found["WD"].certain and "--wd" in found["WD"].by
    assert not found["DROP"].certain and "globals()" in found["DROP"].by
    assert "may be overridden" in found["DROP"].message()
    quiet = overrides(project, "python train.py", code)
    assert not quiet["WD"].certain  # --wd not passed: only the globals() write may touch it
