"""Entity-level diffs: which functions, classes, methods and knobs a candidate changed."""

from __future__ import annotations

from autoresearch.analysis.entities import EntityChange, entity_changes, summarize
from autoresearch.bundle import pack
from autoresearch.tasks import get_task

OLD = '''"""A tiny trainer."""
import math

LR = 3e-3  # search: log 3e-4..3e-2 [optimizer]
DEPTH = 2  # search: int 1..6 [architectural]


class Net:
    WIDTH = 8

    def forward(self, x):
        return x * 2

    def reset(self):
        pass


def train(net):
    return net.forward(LR)


train(Net())
'''


def test_knobs_methods_and_functions_are_named() -> None:
    warmup = "def warmup(step):\n    return step\n\n\ndef train(net):"
    new = (OLD.replace("LR = 3e-3", "LR = 1e-3").replace("return x * 2", "return x * 3")
              .replace("def train(net):", warmup))
    changes = entity_changes(OLD, new)
    assert EntityChange("knob", "LR", "changed", "0.003 -> 0.001") in changes
    assert EntityChange("method", "Net.forward", "changed") in changes
    assert EntityChange("function", "warmup", "added") in changes
    assert {c.name for c in changes} == {"LR", "Net.forward", "warmup"}  # nothing else
    assert summarize(changes).startswith("~LR (0.003 -> 0.001)")


def test_formatting_comments_and_number_spelling_are_no_change() -> None:
    new = OLD.replace("LR = 3e-3", "LR = 0.003").replace("return x * 2", "return (x*2)  # same")
    new = new.replace('"""A tiny trainer."""', '"""Docstrings are not code."""')
    assert entity_changes(OLD, new) == ()


def test_removed_entities_imports_and_loose_code_are_seen() -> None:
    new = OLD.replace("    def reset(self):\n        pass\n", "").replace("import math\n", "")
    new = new.replace("train(Net())", "train(Net())\nprint('done')")
    names = {(c.name, c.how) for c in entity_changes(OLD, new)}
    assert names == {("Net.reset", "removed"), ("<imports>", "removed"),
                     ("<module code>", "changed")}


def test_class_attributes_change_the_class_not_its_methods() -> None:
    changes = entity_changes(OLD, OLD.replace("WIDTH = 8", "WIDTH = 16"))
    assert changes == (EntityChange("class", "Net", "changed"),)


def test_multi_file_candidates_name_the_file() -> None:
    old = pack({"train.py": OLD, "config.yaml": "lr: 1\n"})
    new = pack({"train.py": OLD.replace("DEPTH = 2", "DEPTH = 3"), "config.yaml": "lr: 2\n"})
    assert {str(c) for c in entity_changes(old, new)} == {"~train.py:DEPTH (2 -> 3)",
                                                          "~config.yaml"}


def test_a_real_baseline_edit_and_unparsable_code() -> None:
    code = get_task("shakespeare").baseline_source()
    assert entity_changes(code, code) == ()
    broken = entity_changes(code, code + "\ndef (:\n")
    assert broken and broken[0].kind == "file"
