"""Several editable files as one text, so a candidate is one string everywhere (store, diffs,
knob search, prompts). One file is its text verbatim; several are sections under marker lines:

    # autoresearch-file: train.py
    <train.py, ending with a newline>
    # autoresearch-file: model.py
    <model.py>

Knobs are read per Python section (see knobs.py), so a bundle may hold non-Python files.
"""

from __future__ import annotations

from dataclasses import dataclass

MARKER = "# autoresearch-file: "


class BundleError(ValueError):
    """The text does not hold exactly the expected files."""


@dataclass(frozen=True)
class Section:
    name: str
    text: str
    line_offset: int  # lines of the bundle before this section's first line


def pack(files: dict[str, str]) -> str:
    """The candidate text of `files` (in the given order)."""
    if len(files) == 1:
        return next(iter(files.values()))
    return "".join(f"{MARKER}{name}\n{_ending(text)}" for name, text in files.items())


def _ending(text: str) -> str:
    return text if not text or text.endswith("\n") else text + "\n"


def sections(code: str, names: tuple[str, ...] | None = None) -> list[Section]:
    """The files of a candidate; `names` (when given) must be exactly the files it holds."""
    if names is not None and len(names) == 1:
        return [Section(names[0], code, 0)]
    found = [Section("", code, 0)]
    if code.startswith(MARKER):
        found, lines, name, start = [], code.splitlines(keepends=True), "", 0
        for i, line in enumerate([*lines, MARKER]):
            if line.startswith(MARKER):
                if i:
                    found.append(Section(name, "".join(lines[start:i]), start))
                name, start = line[len(MARKER):].strip(), i + 1
    got = [s.name for s in found]
    if names is not None and (sorted(got) != sorted(names) or len(set(got)) != len(got)):
        raise BundleError(f"the candidate must hold the files {', '.join(names)}, each under a "
                          f"'{MARKER}NAME' line; it holds {', '.join(got) or 'none'}")
    return found


def unpack(code: str, names: tuple[str, ...]) -> dict[str, str]:
    return {s.name: s.text for s in sections(code, names)}


def python_sections(code: str) -> list[Section]:
    """The Python sections a knob search can read (a single file counts as Python)."""
    if not code.startswith(MARKER):
        return [Section("", code, 0)]
    return [s for s in sections(code) if s.name.endswith(".py")]
