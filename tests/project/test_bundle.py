"""Several editable files as one candidate text, and the knob search on it."""

from __future__ import annotations

import pytest

from autoresearch.bundle import MARKER, BundleError, pack, sections, unpack
from autoresearch.knobs import KnobError, apply_knobs, parse_knobs

TRAIN = "import model\nLR = 0.01  # search: log 1e-3..1 [optimizer]\nprint(LR)\n"
MODEL = "WIDTH = 32  # search: choice 16,32,64 [architectural]\n"
CONFIG = "depth: 3  # search: int 1..4\n"


def test_one_file_is_its_text_verbatim():
    assert pack({"train.py": TRAIN}) == TRAIN
    assert unpack(TRAIN, ("train.py",)) == {"train.py": TRAIN}


def test_several_files_round_trip_in_order():
    code = pack({"train.py": TRAIN, "model.py": MODEL.rstrip("\n"), "conf/c.yaml": CONFIG})
    assert code.startswith(f"{MARKER}train.py\n") and code.count(MARKER) == 3
    files = unpack(code, ("model.py", "train.py", "conf/c.yaml"))
    assert files == {"train.py": TRAIN, "model.py": MODEL, "conf/c.yaml": CONFIG}
    assert [s.line_offset for s in sections(code)] == [1, 5, 7]


@pytest.mark.parametrize("code", [
    TRAIN,  # no markers at all
    pack({"train.py": TRAIN, "other.py": MODEL}),  # a file too many, one missing
    pack({"train.py": TRAIN, "model.py": MODEL}) + f"{MARKER}train.py\nx = 1\n",  # twice
])
def test_a_bundle_without_exactly_the_files_is_refused(code):
    with pytest.raises(BundleError, match=r"train\.py, model\.py"):
        unpack(code, ("train.py", "model.py"))


def test_knobs_are_read_and_edited_across_python_files_only():
    code = pack({"train.py": TRAIN, "model.py": MODEL, "c.yaml": CONFIG})
    knobs = parse_knobs(code)
    assert list(knobs) == ["LR", "WIDTH"]  # the YAML file is not Python: skipped
    edited = apply_knobs(code, knobs, {"LR": 0.1, "WIDTH": 64})
    files = unpack(edited, ("train.py", "model.py", "c.yaml"))
    assert "LR = 0.1  # search" in files["train.py"] and files["model.py"].startswith("WIDTH = 64")
    assert files["c.yaml"] == CONFIG


def test_a_knob_name_in_two_files_is_an_error():
    with pytest.raises(KnobError, match="two files"):
        parse_knobs(pack({"a.py": MODEL, "b.py": MODEL}))
