"""How a project's command line becomes a process: the argument list and the PATH it runs with.

A plain command (`python train.py config/x.py`) runs without a shell. A command with shell
syntax (`python train.py | tee log`, `a && b`, `> file`) runs in bash with `pipefail`, so that a
crash at the start of a pipeline is not hidden by the exit status of its last command (a
script that died after its first evaluation would otherwise be scored on that evaluation).
An explicit `bash -c` / `sh -c` gets `pipefail` too (`sh` becomes bash: dash has no pipefail).
Either way `python` is the interpreter running autoresearch: it replaces a leading `python`
and its folder comes first on PATH, for commands a shell or a script starts.
"""

from __future__ import annotations

import os
import shlex
import shutil
import sys
from pathlib import Path

PYTHONS = ("python", "python3")
SHELLS = ("bash", "sh")
_OPERATORS = frozenset("|&;<>()")


def command_tokens(command: str) -> list[str]:
    """The words of a command as a shell splits them (operators are words of their own)."""
    lexer = shlex.shlex(command, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    return list(lexer)


def uses_shell(command: str) -> bool:
    """True when the command needs a shell: pipes, lists, redirections, subshells, variables."""
    return any(set(token) <= _OPERATORS or "$" in token or "`" in token
               for token in command_tokens(command) if token)


def _bash() -> str:
    return shutil.which("bash") or "/bin/bash"


def command_argv(command: str) -> list[str]:
    """The argument list that runs `command` (see the module's docstring)."""
    if uses_shell(command):
        return [_bash(), "-o", "pipefail", "-c", command]
    argv = shlex.split(command)
    if argv and argv[0] in PYTHONS:
        argv[0] = sys.executable
    elif argv and Path(argv[0]).name in SHELLS and "-c" in argv[1:]:
        argv = [_bash(), "-o", "pipefail", *argv[1:]]
    return argv


def interpreter_first(path: str | None) -> str:
    """PATH with the folder of the interpreter running autoresearch in front (a virtual
    environment's bin/: its `python`, and the tools installed with it)."""
    folder = str(Path(sys.executable).parent)  # not resolved: a venv's python is a symlink
    rest = [p for p in (path or os.defpath).split(os.pathsep) if p and p != folder]
    return os.pathsep.join([folder, *rest])
