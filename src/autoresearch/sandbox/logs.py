"""Log tails: bounded and free of control characters, safe to store and to show to an LLM."""

from __future__ import annotations

import re
from pathlib import Path

_CONTROL = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|[\x00-\x08\x0b-\x1f\x7f]")


def sanitize(text: str, limit: int) -> str:
    clean = _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    if len(clean) > limit:
        clean = "[... earlier output cut ...]\n" + clean[-limit:]
    return clean


def read_tail(path: Path, limit: int) -> str:
    try:
        with open(path, "rb") as handle:
            handle.seek(0, 2)
            size = handle.tell()
            handle.seek(max(0, size - limit))
            raw = handle.read()
    except OSError:
        return ""
    return sanitize(raw.decode("utf-8", errors="replace"), limit)
