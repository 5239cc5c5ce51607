"""Reply parsing: the shapes models really answer in, and clear reasons for the rest."""

from __future__ import annotations

import json

import pytest

from autoresearch.llm.parsing import ReplyError, parse_reply

# The trailing spaces after `x = 1` are on purpose: edits must match without them.
PARENT = """import harness

LR = 3e-3  # search: log 3e-4..3e-2 [optimizer]
N_LAYER = 2  # search: int 1..6 [architectural]


def train():
    x = 1{trailing}
    return x


harness.evaluate(None)
""".format(trailing="   ")
NEW = PARENT.replace("N_LAYER = 2", "N_LAYER = 4")
CATEGORIES = ("architectural", "optimizer", "other")


def parse(text: str, **kwargs):
    return parse_reply(text, PARENT, categories=CATEGORIES, **kwargs)


def answer(**fields) -> str:
    return json.dumps({"description": "deeper", "category": "architectural",
                       "hypothesis": "more capacity", **fields})


def test_plain_json_with_the_whole_file():
    reply = parse(answer(code=NEW))
    assert (reply.code, reply.description, reply.category, reply.form) == (
        NEW, "deeper", "architectural", "file")
    assert reply.hypothesis == "more capacity"


def test_fenced_json_inside_prose_with_a_fenced_file_inside_the_string():
    inner = "```python\n" + NEW + "```"
    text = f"Here is my proposal.\n\n```json\n{answer(code=inner)}\n```\n\nGood luck!"
    reply = parse(text)
    assert reply.code == NEW


def test_raw_newlines_inside_the_json_string_are_tolerated():
    text = ('{"description": "deeper", "category": "Architectural", "hypothesis": "h", '
            '"code": "' + NEW.replace('"', '\\"') + '"}')
    reply = parse(text)
    assert reply.code == NEW and reply.category == "architectural"


def test_unknown_category_becomes_other():
    assert parse(answer(code=NEW, category="vibes")).category == "other"


def test_search_replace_blocks_after_a_json_header():
    text = (answer() + "\n\n<<<<<<< SEARCH\nN_LAYER = 2  # search: int 1..6 [architectural]\n"
            "=======\nN_LAYER = 4  # search: int 1..6 [architectural]\n>>>>>>> REPLACE\n")
    reply = parse(text)
    assert reply.code == NEW and reply.form == "edits" and reply.description == "deeper"


def test_search_replace_inside_the_json_and_loose_trailing_spaces():
    edits = ("<<<<<<< SEARCH\n    x = 1\n    return x\n=======\n    x = 2\n    return x\n"
             ">>>>>>> REPLACE")
    reply = parse(answer(edits=edits))
    assert "    x = 2\n    return x\n" in reply.code and "x = 1" not in reply.code


def test_blocks_alone_take_the_description_from_the_prose():
    text = ("Use four layers.\n<<<<<<< SEARCH\nN_LAYER = 2\n=======\nN_LAYER = 4\n"
            ">>>>>>> REPLACE")
    reply = parse(text)
    assert reply.description == "Use four layers." and reply.category == "other"
    assert "N_LAYER = 4" in reply.code


@pytest.mark.parametrize(("search", "message"), [
    ("N_LAYER = 9", "is not in the parent"),
    ("\n\n", "the SEARCH part is empty"),
    ("x", "matches 2 places"),
])
def test_bad_edit_blocks_say_why(search, message):
    text = f"<<<<<<< SEARCH\n{search}\n=======\nfoo\n>>>>>>> REPLACE"
    with pytest.raises(ReplyError, match=message):
        parse(text)


def test_a_single_fenced_python_file_is_accepted():
    reply = parse(f"Deeper model:\n```python\n{NEW}```\n")
    assert reply.code == NEW and reply.form == "fenced file"


@pytest.mark.parametrize(("text", "message"), [
    ("", "the reply is empty"),
    ("I would try a deeper model.", "no JSON object"),
    ('{"description": "x", "category": "other"}', 'has no usable "code"'),
])
def test_unusable_replies_say_why(text, message):
    with pytest.raises(ReplyError, match=message):
        parse(text)


def test_identical_code_is_rejected():
    with pytest.raises(ReplyError, match="identical to the parent"):
        parse(answer(code=PARENT))


def test_truncation_is_named_from_the_stop_reason_and_from_the_shape():
    cut = answer(code=NEW)[:120]
    with pytest.raises(ReplyError, match="truncated at max_tokens=4096"):
        parse(cut, truncated=True, max_tokens=4096)
    with pytest.raises(ReplyError, match="truncated"):
        parse(cut)  # an unclosed object even without a stop reason


def test_a_complete_answer_survives_a_max_tokens_stop():
    assert parse(answer(code=NEW), truncated=True).code == NEW
