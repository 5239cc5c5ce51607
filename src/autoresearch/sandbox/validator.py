"""Static checks on candidate code before it runs (AST, no execution).

A cheap early filter and a source of clear reasons, not a boundary: string tricks get past
any such check. What holds when a pattern slips through is the sandbox, and the evaluator
computing the metric in a process that runs no candidate code.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field

from autoresearch.records import FailureKind

HARNESS = "harness"
FORBIDDEN_MODULES = frozenset({
    "subprocess", "socket", "ssl", "multiprocessing", "concurrent", "asyncio", "ctypes", "cffi",
    "gc", "inspect", "importlib", "resource", "signal", "pty", "shutil", "builtins", "code",
    "codeop", "runpy", "marshal", "pickle", "dill", "cloudpickle", "http", "urllib", "requests",
    "httpx", "aiohttp", "ftplib", "smtplib", "telnetlib", "xmlrpc", "webbrowser", "sqlite3",
    "autoresearch", "mmap", "fcntl", "tracemalloc", "sys_monitoring", "faulthandler", "posix",
    "nt", "_posixsubprocess", "_thread", "_signal", "_socket", "_ctypes", "os.posix",
})
FORBIDDEN_SUBMODULES = ("torch.utils.cpp_extension", "torch.distributed", "numpy.ctypeslib")
FORBIDDEN_CALLS = frozenset({"eval", "exec", "compile", "__import__", "globals", "locals", "vars",
                             "breakpoint", "delattr"})
DYNAMIC_ATTR_CALLS = frozenset({"getattr", "setattr", "hasattr"})
FORBIDDEN_ATTRS = {
    "os": {"system", "popen", "execv", "execve", "execl", "execle", "execlp", "execlpe", "execvp",
           "execvpe", "spawnl", "spawnle", "spawnlp", "spawnlpe", "spawnv", "spawnve", "spawnvp",
           "spawnvpe", "fork",
           "forkpty", "kill", "killpg", "_exit", "environ", "environb", "getenv", "putenv",
           "unsetenv", "setsid", "setpgid", "setpgrp", "chdir", "chroot", "fchdir", "symlink",
           "link", "open", "fdopen", "dup", "dup2", "pipe", "write", "read", "posix_spawn",
           "posix_spawnp", "nice", "setuid", "setgid", "startfile", "register_at_fork"},
    "sys": {"modules", "_getframe", "settrace", "setprofile", "meta_path", "path_hooks",
            "addaudithook", "setrecursionlimit", "_current_frames", "monitoring"},
}
# Names distinctive enough to refuse on any object, so aliases (`o = os; o.system(...)`) and
# re-exports (`torch.os.system`) do not get past the module-specific rules above.
FORBIDDEN_ANY_ATTRS = frozenset({
    "home", "expanduser", "CodeType", "FunctionType", "system", "popen", "execv", "execve",
    "execl", "execle", "execlp", "execlpe", "execvp", "execvpe", "spawnl", "spawnle", "spawnlp",
    "spawnlpe", "spawnv", "spawnve", "spawnvp", "spawnvpe", "fork", "forkpty", "killpg",
    "posix_spawn", "posix_spawnp", "setsid", "setpgid", "setpgrp", "chroot", "fchdir",
    "register_at_fork", "_exit", "putenv", "unsetenv", "getenv", "environ", "environb",
    "startfile", "_getframe", "settrace", "setprofile", "_current_frames", "addaudithook",
    "meta_path", "path_hooks",
})
# A module reached as an attribute of another (`torch.os`, `os.sys`, `np.sys.modules`).
FORBIDDEN_MODULE_ATTRS = frozenset({
    "os", "sys", "subprocess", "builtins", "importlib", "ctypes", "socket", "shutil", "signal",
    "posix", "pickle", "inspect", "gc", "runpy", "multiprocessing", "resource", "mmap", "fcntl",
})
SEED_CALLS = frozenset({"seed", "manual_seed", "manual_seed_all", "set_rng_state", "set_state",
                        "setstate", "initial_seed", "seed_all"})
SAFE_DUNDERS = frozenset({"__init__", "__name__", "__qualname__", "__doc__", "__call__",
                          "__len__", "__iter__", "__next__", "__enter__", "__exit__",
                          "__getitem__", "__setitem__", "__repr__", "__str__", "__main__",
                          "__future__", "__version__", "__all__"})
OUTSIDE_PATH = re.compile(r"^(/[A-Za-z]|~)|(^|/)\.\.(/|$)")


@dataclass(frozen=True)
class ValidationResult:
    failure: FailureKind | None
    problems: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return self.failure is None

    @property
    def reason(self) -> str:
        return "; ".join(self.problems)


class _Checker(ast.NodeVisitor):
    def __init__(self) -> None:
        self.problems: list[str] = []
        self.modules: dict[str, str] = {}  # local name -> module it is bound to
        self.harness_names: dict[str, str] = {}  # local name -> harness attribute imported
        self.called: set[str] = set()

    def flag(self, node: ast.AST, message: str) -> None:
        self.problems.append(f"line {getattr(node, 'lineno', '?')}: {message}")

    def _check_module(self, node: ast.AST, name: str) -> None:
        root = name.split(".")[0]
        if root in FORBIDDEN_MODULES or name.startswith(FORBIDDEN_SUBMODULES):
            self.flag(node, f"import of {name!r} is not allowed in candidate code")

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._check_module(node, alias.name)
            local = alias.asname or alias.name.split(".")[0]
            self.modules[local] = alias.name if alias.asname else local
        self.generic_visit(node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = node.module or ""
        self._check_module(node, module)
        for alias in node.names:
            self._check_module(node, f"{module}.{alias.name}")
            local = alias.asname or alias.name
            if module == HARNESS:
                if alias.name.startswith("_") or alias.name == "*":
                    self.flag(node, f"harness.{alias.name} is private to the harness")
                self.harness_names[local] = alias.name
            else:
                self.modules[local] = f"{module}.{alias.name}"
            if alias.name in FORBIDDEN_ATTRS.get(module, ()):
                self.flag(node, f"{module}.{alias.name} is not allowed in candidate code")
        self.generic_visit(node)

    def _root(self, node: ast.AST) -> str | None:
        while isinstance(node, (ast.Attribute, ast.Subscript, ast.Call)):
            node = node.func if isinstance(node, ast.Call) else node.value
        return node.id if isinstance(node, ast.Name) else None

    def _check_attr(self, node: ast.AST, base: ast.AST, attr: str) -> None:
        if attr.startswith("__") and attr.endswith("__") and attr not in SAFE_DUNDERS:
            self.flag(node, f"access to {attr} is not allowed (introspection escapes the sandbox)")
        module = self.modules.get(base.id) if isinstance(base, ast.Name) else None
        if module in FORBIDDEN_ATTRS and attr in FORBIDDEN_ATTRS[module]:
            self.flag(node, f"{module}.{attr} is not allowed in candidate code")
        elif attr in FORBIDDEN_ANY_ATTRS:
            self.flag(node, f".{attr} is not allowed in candidate code")
        elif attr in FORBIDDEN_MODULE_ATTRS:
            self.flag(node, f"reaching module {attr!r} through another object is not allowed")
        if module == HARNESS and attr.startswith("_"):
            self.flag(node, f"harness.{attr} is private to the harness")

    def visit_Attribute(self, node: ast.Attribute) -> None:
        self._check_attr(node, node.value, node.attr)
        if isinstance(node.ctx, (ast.Store, ast.Del)):
            root = self._root(node.value)
            if root in self.modules or root in self.harness_names:
                self.flag(node, f"changing attributes of module {root!r} (monkeypatching) is "
                                "not allowed")
        self.generic_visit(node)

    def visit_Assign(self, node: ast.Assign) -> None:
        """`o = os` makes `o` an alias: the rules of `os` apply to it."""
        bound = self.modules.get(node.value.id) if isinstance(node.value, ast.Name) else None
        for target in node.targets:
            if bound is not None and isinstance(target, ast.Name):
                self.modules[target.id] = bound
        self.generic_visit(node)

    def visit_Name(self, node: ast.Name) -> None:
        if node.id.startswith("__") and node.id not in SAFE_DUNDERS:
            self.flag(node, f"use of {node.id} is not allowed")
        if isinstance(node.ctx, ast.Store) and node.id in self.harness_names:
            self.flag(node, f"rebinding harness name {node.id!r} is not allowed")
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        if isinstance(func, ast.Name):
            if func.id in FORBIDDEN_CALLS:
                self.flag(node, f"{func.id}() is not allowed in candidate code")
            if func.id in DYNAMIC_ATTR_CALLS:
                self._check_dynamic_attr(node)
            if func.id in self.harness_names:
                self.called.add(self.harness_names[func.id])
        elif isinstance(func, ast.Attribute):
            if isinstance(func.value, ast.Name) and self.modules.get(func.value.id) == HARNESS:
                self.called.add(func.attr)
            if func.attr in SEED_CALLS and not self._uses_harness_seed(node):
                self.flag(node, f"{ast.unparse(func)}() sets a seed; seeds are applied by the "
                                "harness before your code runs (use harness.SEED if you need it)")
        self.generic_visit(node)

    def _check_dynamic_attr(self, node: ast.Call) -> None:
        if len(node.args) < 2 or not isinstance(node.args[1], ast.Constant) \
                or not isinstance(node.args[1].value, str):
            self.flag(node, "getattr/setattr/hasattr need a literal attribute name")
            return
        target, attr = node.args[0], node.args[1].value
        self._check_attr(node, target, attr)
        func = node.func
        if isinstance(func, ast.Name) and func.id == "setattr":
            root = self._root(target)
            if root in self.modules:
                self.flag(node, f"changing attributes of module {root!r} is not allowed")

    def _uses_harness_seed(self, node: ast.Call) -> bool:
        # A generator of the candidate's own, seeded from harness.SEED, is fine; the global
        # generators of a module (torch.manual_seed, np.random.seed) never are.
        target = node.func.value if isinstance(node.func, ast.Attribute) else node.func
        while isinstance(target, ast.Attribute):
            target = target.value
        if isinstance(target, ast.Name) and target.id in self.modules:
            return False
        return any(
            (isinstance(n, ast.Attribute) and n.attr == "SEED")
            or (isinstance(n, ast.Name) and self.harness_names.get(n.id) == "SEED")
            for arg in node.args
            for n in ast.walk(arg)
        )

    def visit_Constant(self, node: ast.Constant) -> None:
        if isinstance(node.value, str) and OUTSIDE_PATH.search(node.value):
            self.flag(node, f"path {node.value[:60]!r} points outside the run's work directory")


def validate(code: str, required_calls: tuple[str, ...] = ("evaluate",),
             uses_harness: bool = True) -> ValidationResult:
    try:
        tree = ast.parse(code)
    except SyntaxError as exc:
        return ValidationResult(FailureKind.SYNTAX, (f"line {exc.lineno}: {exc.msg}",))
    checker = _Checker()
    checker.visit(tree)
    problems = list(checker.problems)
    if uses_harness:
        missing = [c for c in required_calls if c not in checker.called]
        if missing:
            problems.append("missing required harness call(s): "
                            + ", ".join(f"harness.{m}()" for m in missing))
    if problems:
        return ValidationResult(FailureKind.VALIDATION, tuple(problems))
    return ValidationResult(None)
