"""A fresh copy of a user's project per seed run: only the editable files writable.

Every other file is copied read-only (files over LINK_BYTES are linked to the original instead,
so a data file is not copied per run) and fingerprinted before and after the run: a run that
changed one is rejected. Under bubblewrap the linked originals are mounted read-only; file modes
alone do not stop a process running as root, which is why the fingerprints are checked.
"""

from __future__ import annotations

import contextlib
import fnmatch
import hashlib
import os
import shutil
import stat
from dataclasses import dataclass
from pathlib import Path

IGNORED_DIRS = frozenset({".git", ".hg", ".svn", "__pycache__", ".venv", "venv", ".mypy_cache",
                          ".pytest_cache", ".ruff_cache", "node_modules", ".ipynb_checkpoints"})
# Our own store may sit in the project folder (the default is ./autoresearch.db).
IGNORED_FILES = ("*.pyc", "autoresearch.db", "autoresearch.db-*", ".DS_Store")
LINK_BYTES = 64 * 1024 * 1024
HASH_BYTES = 16 * 1024 * 1024  # larger files are fingerprinted by size and mtime only


def project_files(root: Path, hidden: tuple[Path, ...] = ()) -> list[str]:
    """The files that make up a project, as sorted relative POSIX paths (no symlinks)."""
    masked = {p.resolve() for p in hidden}
    found: list[str] = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in IGNORED_DIRS)
        for name in files:
            path = Path(folder, name)
            if (any(fnmatch.fnmatch(name, pattern) for pattern in IGNORED_FILES)
                    or path.is_symlink() or path.resolve() in masked):
                continue
            found.append(path.relative_to(root).as_posix())
    return sorted(found)


def fingerprint(path: Path) -> str:
    info = path.stat()
    if info.st_size > HASH_BYTES:
        return f"size={info.st_size} mtime={info.st_mtime_ns}"
    return hashlib.sha256(path.read_bytes()).hexdigest()


@dataclass(frozen=True)
class Workspace:
    root: Path  # the copy; the command runs here
    fixed: dict[str, str]  # read-only relative path -> fingerprint
    linked: tuple[Path, ...]  # originals the copy links to (large files)

    def changed(self) -> list[str]:
        """Read-only files that are gone or differ from their fingerprint."""
        out = []
        for name, before in self.fixed.items():
            path = self.root / name
            try:
                now = fingerprint(path)
            except OSError:
                now = "missing"
            if now != before:
                out.append(name)
        return out


def prepare_workspace(source: Path, target: Path, files: dict[str, str],
                      hidden: tuple[Path, ...] = (), link_bytes: int = LINK_BYTES) -> Workspace:
    """Copy `source` to `target`, then write the editable `files` (relative path -> text)."""
    fixed: dict[str, str] = {}
    linked: list[Path] = []
    for name in project_files(source, hidden):
        if name in files:
            continue
        original, copy = source / name, target / name
        copy.parent.mkdir(parents=True, exist_ok=True)
        if original.stat().st_size > link_bytes:
            copy.symlink_to(original.resolve())
            linked.append(original.resolve())
        else:
            shutil.copyfile(original, copy)
            copy.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH
                       | (original.stat().st_mode & (stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)))
        fixed[name] = fingerprint(copy)
    for name, text in files.items():
        path = target / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return Workspace(target, fixed, tuple(linked))


def remove_tree(path: Path) -> None:
    """Remove a run's directory even if the run made parts of it read-only."""
    for folder, _, _ in os.walk(path):
        with contextlib.suppress(OSError):
            os.chmod(folder, stat.S_IRWXU)
    shutil.rmtree(path, ignore_errors=True)
