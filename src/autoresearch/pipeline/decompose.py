"""Decompose a user's pipeline .py into slots, with Python's own `ast` (nothing is executed).

The shapes people write, each recognised (usual names included):
    functions   load_data() -> df; engineer_features(df) -> (X, y) or X; build_model()
    multi       engineer_features(df, target) -> (X, y)   (autoresearch-multi's contract)
    contract    load_data(frame), engineer_features(frame, problem) -> transformer,
                build_model(problem)                       (this project's own contract)
    pipeline    a module-level `make_pipeline(...)` / `Pipeline([...])` and the loading around it
The CSV the file reads is the table; the target is `--target`, else read from the code. The
user's implementations become the first (baseline) implementation of their slot and compete
with the built-in templates; the framework is detected from the imports.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

from autoresearch.errors import UsageError

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
PIPELINE_CALLS = ("make_pipeline", "Pipeline")
EXPECTED = {
    "load_data": "load_data() -> DataFrame, or load_data(frame) -> DataFrame (same rows)",
    "engineer_features": "engineer_features(df) -> (X, y) or X, engineer_features(df, target) "
                         "-> (X, y), or engineer_features(frame, problem) -> unfitted transformer",
    "build_model": "build_model() or build_model(problem) -> unfitted estimator",
}
REWRITE = {
    "load_data": "def load_data():\n    return pd.read_csv('data.csv')",
    "engineer_features": "def engineer_features(df):\n    X = df.drop(columns=['target'])\n"
                         "    return X, df['target']",
    "build_model": "def build_model():\n    return RandomForestClassifier(n_estimators=N)  "
                   "# settings as constants, not arguments",
}


class ContractMismatch(UsageError):
    """A user's function that no adapter fits: the message shows what was found, what is
    expected and a short rewrite (exit 2, before any experiment)."""

    def __init__(self, path: Path, slot: str, found: str, problem: str) -> None:
        indented = "\n".join(f"    {line}" for line in REWRITE[slot].splitlines())
        super().__init__(f"{path.name}: {problem}\n  found:    {found}\n  expected: "
                         f"{EXPECTED[slot]}\n  rewrite, e.g.:\n{indented}")


@dataclass(frozen=True)
class UserSlot:
    """One of the user's functions, as found: how it is called and what it returns."""

    slot: str
    function: ast.FunctionDef
    signature: str  # as written, e.g. "engineer_features(df)"
    params: tuple[str, ...]


@dataclass(frozen=True)
class Decomposed:
    path: Path
    shape: str  # functions, multi, contract or pipeline
    framework: str
    data_file: Path | None
    target: str | None
    found: tuple[UserSlot, ...]
    pipeline: ast.expr | None  # the module-level Pipeline expression (shape "pipeline")
    context: str  # imports, literal constants, helpers and classes the user's code relies on

    @property
    def slots(self) -> tuple[str, ...]:
        if self.pipeline is not None:
            return ("engineer_features", "build_model")
        return tuple(s.slot for s in self.found)

    def get(self, slot: str) -> UserSlot | None:
        return next((s for s in self.found if s.slot == slot), None)


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
    found = []
    for slot, names in ALIASES.items():
        fn = next((functions[a] for a in names if a in functions), None)
        if fn is not None:
            params = tuple(a.arg for a in fn.args.args)
            found.append(UserSlot(slot, fn, f"{fn.name}({', '.join(params)})", params))
    pipeline = _pipeline(tree)
    if not found and pipeline is None:
        names = ", ".join(a for names in ALIASES.values() for a in names[:2])
        raise UsageError(f"{path} defines no pipeline slot (top-level functions such as "
                         f"{names}, or a module-level make_pipeline(...)); write them as "
                         "functions or pass a CSV with --target")
    for user in found:
        _check(path, user)
    loader = next((s.function for s in found if s.slot == "load_data"), None)
    shape = _shape(found, pipeline)
    return Decomposed(path=path, shape=shape, framework=_framework(tree),
                      data_file=_data_file(loader, path.parent) or _data_file(tree, path.parent),
                      target=_target(tree), found=tuple(found),
                      pipeline=None if found and shape != "pipeline" else pipeline,
                      context=_context(tree, {s.function.name for s in found}))


def _check(path: Path, user: UserSlot) -> None:
    """Signatures no adapter can call: refused now, with the rewrite."""
    required = len(user.params) - len(user.function.args.defaults)
    if user.slot == "build_model" and required > (1 if user.params[:1] == ("problem",) else 0):
        raise ContractMismatch(path, user.slot, user.signature,
                               f"{user.signature} needs arguments the harness cannot give")
    if user.slot == "engineer_features" and not 1 <= required <= 2:
        raise ContractMismatch(path, user.slot, user.signature,
                               f"{user.signature} must take the data frame")
    if user.slot == "load_data" and required > 1:
        raise ContractMismatch(path, user.slot, user.signature,
                               f"{user.signature} takes {required} arguments")


def _shape(found: list[UserSlot], pipeline: ast.expr | None) -> str:
    features = next((s for s in found if s.slot == "engineer_features"), None)
    model = next((s for s in found if s.slot == "build_model"), None)
    if pipeline is not None and model is None and features is None:
        return "pipeline"
    if (features and features.params[1:2] == ("problem",)) or \
            (model and model.params[:1] == ("problem",)):
        return "contract"
    if features and len(features.params) == 2:
        return "multi"
    return "functions"


def _pipeline(tree: ast.Module) -> ast.expr | None:
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call) \
                and ast.unparse(node.value.func).split(".")[-1] in PIPELINE_CALLS:
            return node.value
    return None


def _context(tree: ast.Module, slot_functions: set[str]) -> str:
    """Imports, literal constants and helpers the user's functions may rely on."""
    keep = []
    for node in tree.body:
        helper = isinstance(node, ast.FunctionDef) and node.name not in slot_functions
        if helper or isinstance(node, ast.Import | ast.ImportFrom | ast.ClassDef):
            keep.append(node)
        elif isinstance(node, ast.Assign) and all(isinstance(t, ast.Name) for t in node.targets):
            try:
                ast.literal_eval(node.value)
            except ValueError:
                continue
            keep.append(node)
    return "\n".join(ast.unparse(n) for n in keep)


def returns_transformer(fn: ast.FunctionDef) -> bool:
    for node in ast.walk(fn):
        if isinstance(node, ast.Return) and isinstance(node.value, ast.Call):
            name = ast.unparse(node.value.func)
            if any(hint in name for hint in TRANSFORMER_HINTS):
                return True
    return False


def _data_file(node: ast.AST | None, folder: Path) -> Path | None:
    for sub in ast.walk(node) if node is not None else ():
        if isinstance(sub, ast.Constant) and isinstance(sub.value, str) \
                and sub.value.lower().endswith((".csv", ".csv.gz", ".tsv")):
            path = Path(sub.value)
            return path if path.is_absolute() else folder / path
    return None


def _target(tree: ast.Module) -> str | None:
    """The target column as the code names it: a TARGET constant, `y = df["t"]`,
    `df.pop("t")`, `engineer_features(df, "t")`, `return X, df["t"]`, else the one column
    every `drop(columns=...)` removes."""
    for node in tree.body:
        if isinstance(node, ast.Assign) and _text(node.value) \
                and any(isinstance(t, ast.Name) and t.id in TARGET_NAMES for t in node.targets):
            return _text(node.value)
    dropped: list[list[str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "y"
                                                for t in node.targets):
            named = _column(node.value)
            if named:
                return named
        if isinstance(node, ast.Return) and isinstance(node.value, ast.Tuple) \
                and len(node.value.elts) == 2 and _column(node.value.elts[1]):
            return _column(node.value.elts[1])
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                and node.func.id in ALIASES["engineer_features"] and len(node.args) == 2 \
                and _text(node.args[1]):
            return _text(node.args[1])
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                and node.func.attr == "drop":
            dropped.append(_dropped(node))
    common = set.intersection(*(set(d) for d in dropped if d)) if any(dropped) else set()
    return common.pop() if len(common) == 1 else None


def _column(node: ast.expr) -> str | None:
    if isinstance(node, ast.Subscript):
        return _text(node.slice)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
            and node.func.attr == "pop" and node.args:
        return _text(node.args[0])
    return None


def _dropped(call: ast.Call) -> list[str]:
    """Columns named by `drop(columns=...)` or `drop(..., axis=1)`."""
    keywords = {k.arg: k.value for k in call.keywords}
    value = keywords.get("columns")
    axis = keywords.get("axis")
    if value is None and call.args and isinstance(axis, ast.Constant) \
            and axis.value in (1, "columns"):
        value = call.args[0]
    if value is None:
        return []
    items = value.elts if isinstance(value, ast.List | ast.Tuple) else [value]
    return [t for t in (_text(i) for i in items) if t]


def _text(node: ast.expr) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _framework(tree: ast.Module) -> str:
    modules = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            modules.add(node.module.split(".")[0])
    return next((fw for module, fw in FRAMEWORK_IMPORTS if module in modules), "sklearn")
