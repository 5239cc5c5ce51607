"""Knobs a project's script overrides after it sets them, found by reading the code (no run).

nanoGPT sets its globals, then `exec(open('configurator.py').read())` assigns those named in a
config file or a `--key=value` argument of the command; argparse replaces a default the command
passes as an option; a later `name = ...` replaces an earlier one. Tuning such a knob changes
nothing, so every experiment would score exactly as its parent. Certain overrides are left out
of the search; possible ones (an `exec` or `globals()` we cannot follow) are warned about.
"""

from __future__ import annotations

import ast
import os
from dataclasses import dataclass
from pathlib import Path

from autoresearch.bundle import unpack
from autoresearch.knobs import KnobError, parse_knobs
from autoresearch.sandbox.shell import command_tokens


@dataclass(frozen=True)
class Override:
    knob: str
    where: str  # the knob's assignment, "train.py line 12"
    by: str  # what replaces it
    certain: bool

    def message(self) -> str:
        if self.certain:
            return (f"knob {self.knob} ({self.where}) is overridden by {self.by}: the search "
                    "leaves it alone (annotate it where its value is finally set, and make "
                    "that file an --edit file)")
        return (f"knob {self.knob} ({self.where}) may be overridden by {self.by}: if "
                "experiments that change it score exactly as their parent, this is why")


def find_overrides(project: Path, command: str, edit: tuple[str, ...],
                   code: str) -> list[Override]:
    files = unpack(code, edit)
    tokens = command_tokens(command)
    found: list[Override] = []
    for name, text in files.items():
        if not name.endswith(".py"):
            continue
        try:
            knobs = parse_knobs(text)
            tree = ast.parse(text)
        except (KnobError, SyntaxError):
            continue
        runs = [i for i, t in enumerate(tokens) if os.path.normpath(t) == name]
        after = tokens[runs[0] + 1:] if runs else []
        for knob in knobs.values():
            where = f"{name} line {knob.line}"
            by = _override(knob.name, knob.line, tree, project, files, after)
            if by is not None:
                found.append(Override(knob.name, where, by[0], by[1]))
    return found


def _override(knob: str, line: int, tree: ast.Module, project: Path, files: dict[str, str],
              args: list[str]) -> tuple[str, bool] | None:
    """What replaces `knob` after `line`, and whether that is certain."""
    maybe: tuple[str, bool] | None = _argparse(knob, tree, args)
    for node in tree.body:
        if node.lineno <= line:
            continue
        if knob in _assigned(node):
            return f"the assignment at line {node.lineno}", True
        for call in (n for n in ast.walk(node) if isinstance(n, ast.Call)):
            if _called(call) == "exec":
                source = _exec_file(call)
                text = _read(project, files, source) if source else None
                if text is None:
                    maybe = maybe or (f"the exec(...) at line {node.lineno}", False)
                    continue
                if knob in _module_names(text):
                    return f"{source} (run by exec at line {node.lineno})", True
                if "sys.argv" in text:
                    by = _from_arguments(knob, project, files, args, source)
                    if by is not None:
                        return by, True
        if maybe is None and _writes_globals(node):
            maybe = (f"the write to globals() at line {node.lineno}", False)
    return maybe


def _writes_globals(node: ast.stmt) -> bool:
    """`globals().update(...)` or `globals()[name] = value` (reading globals() is harmless)."""
    for sub in ast.walk(node):
        if (isinstance(sub, ast.Call) and _called(sub) == "update"
                and isinstance(sub.func, ast.Attribute) and isinstance(sub.func.value, ast.Call)
                and _called(sub.func.value) == "globals"):
            return True
        if (isinstance(sub, ast.Subscript) and isinstance(sub.ctx, ast.Store)
                and isinstance(sub.value, ast.Call) and _called(sub.value) == "globals"):
            return True
    return False


def _assigned(node: ast.stmt) -> set[str]:
    targets: list[ast.expr] = []
    if isinstance(node, ast.Assign):
        targets = node.targets
    elif isinstance(node, (ast.AnnAssign, ast.AugAssign)):
        targets = [node.target]
    return {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}


def _called(call: ast.Call) -> str:
    func = call.func
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(
        func, ast.Attribute) else ""


def _exec_file(call: ast.Call) -> str | None:
    """X of `exec(open('X').read())`, the configurator idiom."""
    arg = call.args[0] if call.args else None
    if (isinstance(arg, ast.Call) and _called(arg) == "read"
            and isinstance(arg.func, ast.Attribute) and isinstance(arg.func.value, ast.Call)
            and _called(arg.func.value) == "open" and arg.func.value.args
            and isinstance(arg.func.value.args[0], ast.Constant)
            and isinstance(arg.func.value.args[0].value, str)):
        return arg.func.value.args[0].value
    return None


def _read(project: Path, files: dict[str, str], name: str) -> str | None:
    if name in files:  # an --edit file: the candidate's version
        return files[name]
    path = (project / name).resolve()
    if not path.is_relative_to(project) or not path.is_file():
        return None
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def _module_names(text: str) -> set[str]:
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return set()
    return {name for node in tree.body for name in _assigned(node)}


def _from_arguments(knob: str, project: Path, files: dict[str, str], args: list[str],
                    configurator: str) -> str | None:
    """A config file or a `--knob=value` the command hands to a configurator."""
    for arg in args:
        if arg.startswith("--") and arg[2:].split("=", 1)[0] == knob:
            return f"{arg} in the command (read by {configurator})"
        if arg.endswith(".py"):
            text = _read(project, files, arg)
            if text is not None and knob in _module_names(text):
                return f"{arg} (passed by the command to {configurator})"
    return None


def _argparse(knob: str, tree: ast.Module, args: list[str]) -> tuple[str, bool] | None:
    """`add_argument('--lr', default=knob)` and a command that passes --lr."""
    for call in (n for n in ast.walk(tree) if isinstance(n, ast.Call)):
        if _called(call) != "add_argument":
            continue
        default = next((k.value for k in call.keywords if k.arg == "default"), None)
        if not (isinstance(default, ast.Name) and default.id == knob):
            continue
        flags = [a.value for a in call.args if isinstance(a, ast.Constant)
                 and isinstance(a.value, str) and a.value.startswith("-")]
        passed = next((a for a in args if a.split("=", 1)[0] in flags), None)
        if passed is not None:
            return f"{passed} in the command (its argparse default)", True
    return None


def fixed_knobs(overrides: list[Override]) -> frozenset[str]:
    return frozenset(o.knob for o in overrides if o.certain)



