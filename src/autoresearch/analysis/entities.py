"""Which functions, classes and knobs an experiment changed: a diff in the code's own terms.

Each Python file of a candidate is read with `ast` into entities: module-level functions,
classes and their methods (`Class.method`), and module-level assignments (a knob when it
carries a `# search:` annotation). Two versions are compared entity by entity on the AST
without positions, so comments, blank lines and formatting changes are not changes; a knob
is compared by value. Files that are not Python, or do not parse, count as one entity each.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from autoresearch.bundle import sections
from autoresearch.knobs import KnobError, parse_knobs
from autoresearch.records import Experiment

Kind = Literal["function", "class", "method", "knob", "assignment", "statements", "file"]
How = Literal["added", "removed", "changed"]


@dataclass(frozen=True)
class EntityChange:
    kind: Kind
    name: str  # qualified: "file.py:Class.method" in a multi-file candidate
    how: How
    detail: str = ""  # for a knob: "3e-3 -> 1e-3"

    def __str__(self) -> str:
        sign = {"added": "+", "removed": "-", "changed": "~"}[self.how]
        return f"{sign}{self.name}" + (f" ({self.detail})" if self.detail else "")


def entity_changes(old: str, new: str) -> tuple[EntityChange, ...]:
    """What changed from `old` to `new`, in the order entities appear in `new` (then removals)."""
    before, after = _entities(old), _entities(new)
    old_knobs, new_knobs = _knob_values(old), _knob_values(new)
    changes: list[EntityChange] = []
    for name, (kind, dump) in after.items():
        if name not in before:
            changes.append(EntityChange(kind, name, "added"))
        elif before[name][1] != dump:
            detail, bare = "", name.rpartition(":")[2]  # knob names are unique across files
            if kind == "knob" and bare in old_knobs and bare in new_knobs:
                detail = f"{old_knobs[bare]} -> {new_knobs[bare]}"
            changes.append(EntityChange(kind, name, "changed", detail))
    changes += [EntityChange(kind, name, "removed") for name, (kind, _) in before.items()
                if name not in after]
    return tuple(changes)


def summarize(changes: tuple[EntityChange, ...], limit: int = 6) -> str:
    """One short line: `~LR (0.003 -> 0.001), +Block.forward, ...`; "" when nothing changed."""
    shown = ", ".join(str(c) for c in changes[:limit])
    more = len(changes) - limit
    return shown + (f", +{more} more" if more > 0 else "")


def changed_entities(experiment: Experiment, by_id: Mapping[int, Experiment]) -> str:
    """The experiment's entity changes against its parent, in one short line (every view's
    "changed" column); `by_id`: the study's experiments by id."""
    parent = by_id.get(experiment.proposal.parent_id or -1)
    if parent is None:
        return ""
    return summarize(entity_changes(parent.code, experiment.code), limit=4)


def _knob_values(code: str) -> dict[str, str]:
    try:
        return {name: repr(knob.value) for name, knob in parse_knobs(code).items()}
    except (KnobError, SyntaxError):
        return {}


def _entities(code: str) -> dict[str, tuple[Kind, str]]:
    found: dict[str, tuple[Kind, str]] = {}
    parts = sections(code)
    for part in parts:
        prefix = f"{part.name}:" if len(parts) > 1 else ""
        if part.name and not part.name.endswith(".py"):
            found[part.name] = ("file", part.text)
            continue
        try:
            tree = ast.parse(part.text)
        except SyntaxError:
            found[part.name or "<code>"] = ("file", part.text)
            continue
        knobs = set(_knob_values(part.text))
        for kind, name, node in _top_level(tree, knobs):
            found[prefix + name] = (kind, _dump(node))
    return found


def _top_level(tree: ast.Module, knobs: set[str]) -> list[tuple[Kind, str, ast.AST]]:
    out: list[tuple[Kind, str, ast.AST]] = []
    loose: list[ast.stmt] = []
    imports: list[ast.stmt] = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            out.append(("function", node.name, node))
        elif isinstance(node, ast.ClassDef):
            body = [n for n in node.body if not isinstance(n, ast.FunctionDef
                                                          | ast.AsyncFunctionDef)]
            shell = ast.ClassDef(name=node.name, bases=node.bases, keywords=node.keywords,
                                 body=body or [ast.Pass()], decorator_list=node.decorator_list)
            out.append(("class", node.name, shell))
            out += [("method", f"{node.name}.{m.name}", m) for m in node.body
                    if isinstance(m, ast.FunctionDef | ast.AsyncFunctionDef)]
        elif (name := _assigned(node)) is not None:
            out.append(("knob" if name in knobs else "assignment", name, node))
        elif isinstance(node, ast.Import | ast.ImportFrom):
            imports.append(node)
        elif not _docstring(node):
            loose.append(node)
    if imports:
        out.append(("statements", "<imports>", ast.Module(imports, [])))
    if loose:  # the script's top-level statements (its training loop), as one entity
        out.append(("statements", "<module code>", ast.Module(loose, [])))
    return out


def _assigned(node: ast.stmt) -> str | None:
    if isinstance(node, ast.Assign) and len(node.targets) == 1 \
            and isinstance(node.targets[0], ast.Name):
        return node.targets[0].id
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
        return node.target.id
    return None


def _docstring(node: ast.stmt) -> bool:
    return isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) \
        and isinstance(node.value.value, str)


def _dump(node: ast.AST) -> str:
    return ast.dump(node, include_attributes=False)
