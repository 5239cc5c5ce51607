import pytest

from autoresearch.knobs import KnobError, apply_knobs, parse_knobs
from autoresearch.tasks import get_task

CODE = """\
import harness
LR = 3e-3  # search: log 1e-4..3e-2 [optimizer]
LAYERS = 3  # search: int 1..6 [architectural]
WIDTH = 64  # search: choice 32,64,128
BIAS = True  # search: bool
DROP = 0.1  # search: float 0.0..0.5 [regularization]
PLAIN = 7
lower_case = 1  # search: int 1..3
typed: float = 0.5  # search: float 0.0..1.0
"""


def test_parse_reads_kinds_ranges_and_categories():
    knobs = parse_knobs(CODE)
    assert list(knobs) == ["LR", "LAYERS", "WIDTH", "BIAS", "DROP", "lower_case", "typed"]
    assert knobs["LR"].kind == "log" and knobs["LR"].low == 1e-4 and knobs["LR"].high == 3e-2
    assert knobs["LR"].category == "optimizer"
    assert knobs["WIDTH"].choices == (32, 64, 128) and knobs["WIDTH"].category == "hyperparameter"
    assert knobs["BIAS"].choices == (False, True)
    assert knobs["LAYERS"].value == 3
    assert knobs["lower_case"].value == 1 and knobs["typed"].high == 1.0  # any name, annotated


def test_lowercase_and_typed_knobs_are_edited_in_place():
    knobs = parse_knobs(CODE)
    new = apply_knobs(CODE, knobs, {"lower_case": 3, "typed": 0.25})
    assert "lower_case = 3  # search: int 1..3" in new
    assert "typed: float = 0.25  # search" in new


def test_apply_rewrites_values_and_keeps_annotations():
    knobs = parse_knobs(CODE)
    new = apply_knobs(CODE, knobs, {"LR": 0.01, "LAYERS": 5, "WIDTH": 128, "BIAS": False})
    again = parse_knobs(new)
    assert again["LR"].value == 0.01 and again["LAYERS"].value == 5
    assert again["WIDTH"].value == 128 and again["BIAS"].value is False
    assert "# search: log 1e-4..3e-2 [optimizer]" in new
    assert new.count("\n") == CODE.count("\n")


def test_baseline_knobs_are_all_annotated_and_in_range():
    knobs = parse_knobs(get_task("shakespeare").baseline_source())
    assert len(knobs) >= 10
    assert all(k.contains(k.value) for k in knobs.values())


@pytest.mark.parametrize("line", ["X = 1  # search: int 5..1", "X = 1  # search: choice 1",
                                  "X = 1  # search: log 0..1", "X = 1  # search: int 1..3 [misc]"])
def test_bad_annotations_are_reported(line):
    with pytest.raises(KnobError):
        parse_knobs(line + "\n")
