"""Decompose a user's pipeline .py into slots, with Python's own `ast` (nothing is executed).

Recognised top-level functions (usual names included):
    load_data          load_data, load, read_data, get_data     -> the CSV it reads is the table
    engineer_features  engineer_features, preprocess, features, feature_engineering, transform
    build_model        build_model, make_model, create_model, get_model, model
The user's own implementations become the first (baseline) implementation of their slot and
compete with the built-in templates; the framework is detected from the imports.
"""

from __future__ import annotations

import ast
import copy
from dataclasses import dataclass
from pathlib import Path

from autoresearch.errors import UsageError
from autoresearch.pipeline.space import Implementation

ALIASES = {
    "load_data": ("load_data", "load", "read_data", "get_data"),
    "engineer_features": ("engineer_features", "preprocess", "features", "feature_engineering",
                          "transform", "make_features", "build_features"),
    "build_model": ("build_model", "make_model", "create_model", "get_model", "model"),
}
FRAMEWORK_IMPORTS = (("catboost", "catboost"), ("xgboost", "xgboost"), ("lightgbm", "lightgbm"),
                     ("keras", "keras"), ("tensorflow", "keras"), ("statsmodels", "statsmodels"),
                     ("torch", "pytorch"), ("sklearn", "sklearn"))
TARGET_NAMES = ("TARGET", "TARGET_COLUMN", "TARGET_COL", "LABEL", "LABEL_COLUMN", "Y_COLUMN")
TRANSFORMER_HINTS = ("Transformer", "Pipeline", "pipeline", "Scaler", "Encoder", "Imputer",
                     "PCA", "Select", "column_transformer")


@dataclass(frozen=True)
class Decomposed:
    path: Path
    framework: str
    data_file: Path | None
    target: str | None
    implementations: tuple[Implementation, ...]  # the user's own, one per recognised slot
    slots: tuple[str, ...]  # the slots the file defines


def decompose(path: Path) -> Decomposed:
    try:
        source = path.read_text(encoding="utf-8")
        tree = ast.parse(source, filename=str(path))
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read {path}: {exc}") from None
    except SyntaxError as exc:
        raise UsageError(f"{path} is not valid Python (line {exc.lineno}: {exc.msg}); fix it or "
                         "pass a CSV") from None
    functions = {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}
    found = {slot: next((functions[a] for a in names if a in functions), None)
             for slot, names in ALIASES.items()}
    if not any(found.values()):
        names = ", ".join(a for names in ALIASES.values() for a in names[:2])
        raise UsageError(f"{path} defines no pipeline slot (top-level functions such as "
                         f"{names}); write them as functions or pass a CSV with --target")
    context = _context(tree, {f.name for f in found.values() if f is not None})
    impls = []
    for slot in ("engineer_features", "build_model"):
        fn = found[slot]
        if fn is not None:
            impls.append(Implementation(slot, "user", "user", description=f"{fn.name}() of "
                                        f"{path.name}", code=_adapter(slot, fn, context)))
    loader = found["load_data"]
    data = _data_file(loader or tree, path.parent)
    return Decomposed(path=path, framework=_framework(tree), data_file=data,
                      target=_target(tree), implementations=tuple(impls),
                      slots=tuple(s for s, f in found.items() if f is not None))


def _context(tree: ast.Module, slot_functions: set[str]) -> str:
    """Imports, literal constants and helpers the user's functions may rely on."""
    keep = []
    for node in tree.body:
        helper = isinstance(node, ast.FunctionDef) and node.name not in slot_functions
        if helper or isinstance(node, ast.Import | ast.ImportFrom | ast.ClassDef):
            keep.append(node)
        elif isinstance(node, ast.Assign) and all(isinstance(t, ast.Name) and t.id.isupper()
                                                  for t in node.targets):
            try:
                ast.literal_eval(node.value)
            except ValueError:
                continue
            keep.append(node)
    return "\n".join(ast.unparse(n) for n in keep)


def _adapter(slot: str, fn: ast.FunctionDef, context: str) -> str:
    """The user's function under a private name, called by a slot function of our contract."""
    user = copy.deepcopy(fn)
    user.name = f"user_{slot}"
    body = ast.unparse(user)
    nargs = len(fn.args.args)
    if slot == "build_model":
        call = "user_build_model(problem)" if nargs else "user_build_model()"
        adapter = f"def build_model(problem):\n    return {call}\n"
    elif _returns_transformer(fn):
        call = "user_engineer_features(frame)" if nargs else "user_engineer_features()"
        adapter = f"def engineer_features(frame, problem):\n    return {call}\n"
    else:
        # A frame -> frame function: applied row-wise (stateless), then the default encoding.
        adapter = (
            "def engineer_features(frame, problem):\n"
            "    from sklearn.compose import ColumnTransformer, make_column_selector\n"
            "    from sklearn.impute import SimpleImputer\n"
            "    from sklearn.pipeline import make_pipeline\n"
            "    from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, "
            "StandardScaler\n\n"
            "    encode = ColumnTransformer([\n"
            "        ('num', make_pipeline(SimpleImputer(strategy='median'), StandardScaler()),\n"
            "         make_column_selector(dtype_include='number')),\n"
            "        ('cat', make_pipeline(SimpleImputer(strategy='most_frequent'),\n"
            "                              OneHotEncoder(handle_unknown='ignore', "
            "sparse_output=False)),\n"
            "         make_column_selector(dtype_exclude='number')),\n"
            "    ], sparse_threshold=0)\n"
            "    return make_pipeline(FunctionTransformer(user_engineer_features), encode)\n")
    return f"{context}\n\n\n{body}\n\n\n{adapter}".lstrip()


def _returns_transformer(fn: ast.FunctionDef) -> bool:
    for node in ast.walk(fn):
        if isinstance(node, ast.Return) and isinstance(node.value, ast.Call):
            name = ast.unparse(node.value.func)
            if any(hint in name for hint in TRANSFORMER_HINTS):
                return True
    return False


def _data_file(node: ast.AST, folder: Path) -> Path | None:
    for sub in ast.walk(node):
        if isinstance(sub, ast.Constant) and isinstance(sub.value, str) \
                and sub.value.lower().endswith((".csv", ".csv.gz", ".tsv")):
            path = Path(sub.value)
            return path if path.is_absolute() else folder / path
    return None


def _target(tree: ast.Module) -> str | None:
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) \
                and isinstance(node.value.value, str) \
                and any(isinstance(t, ast.Name) and t.id in TARGET_NAMES for t in node.targets):
            return node.value.value
    for node in ast.walk(tree):  # y = df["label"] or y = df.pop("label")
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "y"
                                                for t in node.targets):
            value = node.value
            if isinstance(value, ast.Subscript) and isinstance(value.slice, ast.Constant):
                return str(value.slice.value)
            if isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute) \
                    and value.func.attr == "pop" and value.args \
                    and isinstance(value.args[0], ast.Constant):
                return str(value.args[0].value)
    return None


def _framework(tree: ast.Module) -> str:
    modules = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            modules.add(node.module.split(".")[0])
    return next((fw for module, fw in FRAMEWORK_IMPORTS if module in modules), "sklearn")
