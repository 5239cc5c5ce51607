"""The user's functions as slot implementations of the harness' contract (fold.py).

Each adapter is plain Python around the user's own function, so a combo stays one readable
file. Feature code written for a whole table (`engineer_features(df)` returning `(X, y)`) gets
the fold's rows with the target column put back: the training rows' real labels when fitting,
a placeholder on the rows to predict (their labels never reach slot code). Fits inside the
user's feature code (`StandardScaler().fit_transform(X)`, `selector.fit(X, y)`) are rewritten
so that they fit on each fold's training rows only and are reused on the rows to predict: in
the user's script they saw every row, validation rows included.
"""

from __future__ import annotations

import ast
import copy
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined

from autoresearch.pipeline.decompose import Decomposed, UserSlot, returns_transformer
from autoresearch.pipeline.space import Implementation

FIT_METHODS = ("fit", "fit_transform")

_ENV = Environment(loader=PackageLoader("autoresearch.pipeline", "templates"),
                   undefined=StrictUndefined, keep_trailing_newline=True, autoescape=False)
_ENV.filters["py"] = repr


@dataclass(frozen=True)
class Adapted:
    implementations: tuple[Implementation, ...]
    split: tuple[tuple[str, str], ...]  # (slot, where its code came from), for status/report
    notes: tuple[str, ...]  # e.g. feature code that was not fold-safe


def adapt(parts: Decomposed, target: str, labels: Sequence[Any], table: str) -> Adapted:
    """The user's implementations, one per slot they wrote, and how the file was split."""
    name = parts.path.name
    split = [("load_data", _loader(parts, table))]
    if parts.pipeline is not None:
        expr = ast.unparse(parts.pipeline)
        code = _join(parts.context,
                     _ENV.get_template("user/pipeline.py.j2").render(expr=expr, name=name))
        impls = [Implementation(slot, "user", "user", description=f"{expr} of {name}", code=code)
                 for slot in ("engineer_features", "build_model")]
        split += [("engineer_features", f"{expr[:60]} of {name}: the steps before the "
                                        "estimator"),
                  ("build_model", f"{name}'s pipeline: its last step")]
        return Adapted(tuple(impls), tuple(split), ())
    impls, notes = [], []
    for user in parts.found:
        if user.slot == "load_data" and not user.params:
            continue  # a reader: what it reads is the table
        code, how, note = _adapter(user, parts, target, labels)
        impls.append(Implementation(user.slot, "user", "user",
                                    description=f"{user.signature} of {name}", code=code))
        split.append((user.slot, f"{user.signature} of {name}{how}"))
        notes += [f"{user.signature} of {name}: {note}"] if note else []
    return Adapted(tuple(impls), tuple(split), tuple(notes))


def _loader(parts: Decomposed, table: str) -> str:
    reader = parts.get("load_data")
    if reader is not None and not reader.params:
        return f"{reader.signature} of {parts.path.name}: reads the table ({table})"
    if reader is not None:
        return f"{reader.signature} of {parts.path.name} on the table ({table})"
    return f"the table ({table}), columns as read"


def _adapter(user: UserSlot, parts: Decomposed, target: str,
             labels: Sequence[Any]) -> tuple[str, str, str]:
    """(code, how it is called, a note on fold safety)."""
    fn = copy.deepcopy(user.function)
    fn.name = f"user_{user.slot}"
    if user.slot == "load_data":
        body = "def load_data(frame):\n    return user_load_data(frame)\n"
        return _join(parts.context, ast.unparse(fn), body), "", ""
    if user.slot == "build_model":
        call = "user_build_model(problem)" if user.params else "user_build_model()"
        return _join(parts.context, ast.unparse(fn),
                     f"def build_model(problem):\n    return {call}\n"), "", ""
    if user.params[1:2] == ("problem",) or returns_transformer(user.function):
        call = f"user_engineer_features({'frame, problem' if len(user.params) == 2 else 'frame'})"
        return _join(parts.context, ast.unparse(fn),
                     f"def engineer_features(frame, problem):\n    return {call}\n"), \
            ": an unfitted transformer, fitted per fold", ""
    fits = _rewrite_fits(fn)
    call = "user_engineer_features(table, _TARGET)" if len(user.params) == 2 \
        else "user_engineer_features(table)"
    wrapper = _ENV.get_template("user/features.py.j2").render(
        target=target, labels=list(labels), call=call, name=user.signature,
        description=f"{user.signature} of {parts.path.name}, per fold.")
    how = ": called on each fold's rows (target put back for training rows only)"
    note = ""
    if fits:
        note = (f"not fold-safe: it fits {', '.join(fits)} on the rows it is given (in your "
                "script, every row, validation rows included); here each fit is made on a "
                "fold's training rows and reused on the rows it predicts")
        how += f"; {', '.join(fits)} refitted per fold"
    return _join(parts.context, ast.unparse(fn), wrapper), how, note


def _rewrite_fits(fn: ast.FunctionDef) -> list[str]:
    """`e.fit(...)` / `e.fit_transform(...)` -> `_fold_fit(e, "fit", ...)`; a bare
    `name.fit(...)` statement becomes `name = _fold_fit(name, "fit", ...)` so that the fitted
    object is the one used afterwards. Returns what was fitted, as written."""
    fitted: list[str] = []

    class Rewrite(ast.NodeTransformer):
        def visit_Expr(self, node: ast.Expr) -> ast.AST:
            call = node.value
            if isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) \
                    and call.func.attr == "fit" and isinstance(call.func.value, ast.Name):
                target = ast.Name(call.func.value.id, ast.Store())
                return ast.Assign([target], self.visit(call), lineno=node.lineno)
            return self.generic_visit(node)

        def visit_Call(self, node: ast.Call) -> ast.AST:
            self.generic_visit(node)
            if isinstance(node.func, ast.Attribute) and node.func.attr in FIT_METHODS:
                fitted.append(_estimator_name(node.func.value))
                return ast.Call(ast.Name("_fold_fit", ast.Load()),
                                [node.func.value, ast.Constant(node.func.attr), *node.args],
                                node.keywords)
            return node

    Rewrite().visit(fn)
    ast.fix_missing_locations(fn)
    return list(dict.fromkeys(fitted))


def _estimator_name(node: ast.expr) -> str:
    if isinstance(node, ast.Call):
        return ast.unparse(node.func).split(".")[-1]
    return ast.unparse(node)


def _join(*parts: str) -> str:
    return "\n\n\n".join(p.strip("\n") for p in parts if p.strip()) + "\n"
