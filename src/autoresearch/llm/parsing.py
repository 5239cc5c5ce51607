"""Reading a model's reply: a JSON object with the whole new file, or SEARCH/REPLACE edits.

Tolerant of what models do (fences, prose around the JSON, raw newlines inside JSON strings,
a fenced file inside the "code" string) and explicit about what it cannot use: every
rejection says why, and a reply cut at max_tokens is reported as truncated.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

_DECODER = json.JSONDecoder(strict=False)  # models often put raw newlines inside strings
_KEYS = ("code", "edits", "description")
_EDIT = re.compile(r"<{5,9} ?SEARCH[^\n]*\n(.*?)\n?={5,9}[^\n]*\n(.*?)\n?>{5,9} ?REPLACE",
                   re.DOTALL)
_FENCE = re.compile(r"^\s*```[\w+-]*[^\n]*\n(.*?)\n?```\s*$", re.DOTALL)
_PYTHON_FENCE = re.compile(r"```(?:python|py)\s*\n(.*?)\n```", re.DOTALL)


class ReplyError(ValueError):
    """The reply cannot be turned into a candidate; the message says why."""


@dataclass(frozen=True)
class Reply:
    description: str
    category: str
    hypothesis: str
    code: str
    form: str  # "file", "edits" or "fenced file"


def parse_reply(text: str, parent_code: str, *, categories: Collection[str] = (),
                truncated: bool = False, max_tokens: int | None = None) -> Reply:
    """The candidate in a reply; a category outside `categories` becomes "other"."""
    try:
        reply = _parse(text, parent_code, categories)
    except ReplyError as exc:
        if truncated or _looks_truncated(text):
            limit = f" at max_tokens={max_tokens}" if max_tokens else ""
            raise ReplyError(f"the reply was truncated{limit} before it ended ({exc}); raise "
                             "--max-tokens or ask for SEARCH/REPLACE edits") from None
        raise
    if reply.code.strip() == parent_code.strip():
        raise ReplyError("the reply's code is identical to the parent's: nothing to try")
    return reply


def _parse(text: str, parent_code: str, categories: Collection[str]) -> Reply:
    if not text.strip():
        raise ReplyError("the reply is empty")
    data = find_json_object(text)
    if data is not None and isinstance(data.get("code"), str) and data["code"].strip():
        return _reply(data, strip_fence(data["code"]), "file", text, categories)
    edits_text = data.get("edits") if data is not None else None
    blocks = find_edits(edits_text if isinstance(edits_text, str) else text)
    if blocks:
        return _reply(data or {}, apply_edits(parent_code, blocks), "edits", text, categories)
    fenced = _PYTHON_FENCE.findall(text)
    if len(fenced) == 1 and "import harness" in fenced[0]:
        return _reply(data or {}, fenced[0].strip() + "\n", "fenced file", text, categories)
    if data is not None:
        raise ReplyError(f"the JSON object has no usable \"code\" (keys: {', '.join(data)}) "
                         "and there are no SEARCH/REPLACE blocks")
    raise ReplyError("no JSON object with a \"code\" field and no SEARCH/REPLACE blocks in the "
                     f"reply (it starts {text.strip()[:80]!r})")


def find_json_object(text: str) -> dict[str, Any] | None:
    """The first JSON object in the text that has one of the answer's keys."""
    for match in re.finditer(r"\{", text):
        try:
            value, _ = _DECODER.raw_decode(text, match.start())
        except ValueError:
            continue
        if isinstance(value, dict) and any(k in value for k in _KEYS):
            return value
    return None


def strip_fence(code: str) -> str:
    match = _FENCE.match(code)
    body = match.group(1) if match else code
    return body.strip("\n") + "\n"


def find_edits(text: str) -> list[tuple[str, str]]:
    return [(search, replace) for search, replace in _EDIT.findall(text)]


def apply_edits(parent: str, blocks: list[tuple[str, str]]) -> str:
    code = parent
    for number, (search, replace) in enumerate(blocks, 1):
        if not search.strip():
            raise ReplyError(f"edit {number}: the SEARCH part is empty")
        count = code.count(search)
        if count == 1:
            code = code.replace(search, replace, 1)
            continue
        if count > 1:
            raise ReplyError(f"edit {number}: the SEARCH text matches {count} places in the "
                             "parent; include more context")
        code = _replace_loose(code, search, replace, number)
    return code


def _replace_loose(code: str, search: str, replace: str, number: int) -> str:
    """Match line by line ignoring trailing spaces, which models often drop or add."""
    lines = code.splitlines()
    wanted = [line.rstrip() for line in search.splitlines()]
    stripped = [line.rstrip() for line in lines]
    starts = [i for i in range(len(lines) - len(wanted) + 1)
              if stripped[i:i + len(wanted)] == wanted]
    if len(starts) != 1:
        first = next((w for w in wanted if w.strip()), "")
        where = "is not in the parent" if not starts else f"matches {len(starts)} places"
        raise ReplyError(f"edit {number}: the SEARCH text {where} (first line {first.strip()!r})")
    i = starts[0]
    new = [*lines[:i], *replace.splitlines(), *lines[i + len(wanted):]]
    return "\n".join(new) + ("\n" if code.endswith("\n") else "")


def _reply(data: dict[str, Any], code: str, form: str, text: str,
           categories: Collection[str]) -> Reply:
    description = _text(data.get("description")) or _first_prose_line(text) or "LLM edit"
    category = _text(data.get("category")).lower().strip()
    return Reply(description=description[:300],
                 category=category if category in categories else "other",
                 hypothesis=_text(data.get("hypothesis"))[:1000], code=code, form=form)


def _text(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""


def _first_prose_line(text: str) -> str:
    for line in text.splitlines():
        line = line.strip().strip("#*").strip()
        if line and not line.startswith(("```", "<<<<<<<", "{", "=======")):
            return line
    return ""


def _looks_truncated(text: str) -> bool:
    """An unclosed JSON object, fence or edit block at the end."""
    return (text.count("{") > text.count("}") or text.count("```") % 2 == 1
            or text.count("<<<<<<< SEARCH") > text.count(">>>>>>> REPLACE"))
