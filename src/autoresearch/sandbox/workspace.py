"""A fresh copy of a user's project per seed run: sources fixed, outputs writable.

Every file of the project is copied (files over LINK_BYTES are linked to the original instead,
so a data file is not copied per run) and fingerprinted before and after the run. A file is an
*output* when the user's own, unmodified files write it (a checkpoint, a log, a cache: the
baseline's runs are trusted and tell which), and a run may overwrite outputs; every other file
is fixed, copied read-only, and a run that changed one is rejected. Under bubblewrap fixed files
are also mounted read-only; file modes alone do not stop a process running as root, which is
why the fingerprints are checked.
"""

from __future__ import annotations

import contextlib
import fnmatch
import hashlib
import os
import shutil
import stat
from dataclasses import dataclass, field
from pathlib import Path

IGNORED_DIRS = frozenset({".git", ".hg", ".svn", "__pycache__", ".venv", "venv", ".mypy_cache",
                          ".pytest_cache", ".ruff_cache", "node_modules", ".ipynb_checkpoints"})
# Our own store may sit in the project folder (the default is ./autoresearch.db); a store with
# another name is passed in as hidden.
IGNORED_FILES = ("*.pyc", "autoresearch.db", "autoresearch.db-*", ".DS_Store")
LINK_BYTES = 64 * 1024 * 1024
HASH_BYTES = 16 * 1024 * 1024  # larger files are fingerprinted by size and mtime only
READ_ONLY = stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH
EXECUTABLE = stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH


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
    copied: dict[str, str]  # every file copied or linked from the project -> its fingerprint
    writable: frozenset[str] | None  # outputs a run may overwrite; None: any file (trusted)
    edit: frozenset[str]  # the candidate's files
    linked: tuple[Path, ...]  # originals the copy links to (large files)
    # Modification times of the copies: a file written again with the same bytes (a
    # deterministic script's checkpoint) is an output all the same.
    stamps: dict[str, int] = field(default_factory=dict)

    @property
    def fixed(self) -> tuple[str, ...]:
        """Files a run must leave as they are."""
        if self.writable is None:
            return ()
        return tuple(n for n in self.copied if n not in self.writable)

    def changed(self) -> list[str]:
        """Copied files that are gone or differ from their fingerprint."""
        out = []
        for name, before in self.copied.items():
            try:
                now = fingerprint(self.root / name)
            except OSError:
                now = "missing"
            if now != before:
                out.append(name)
        return out

    def violations(self) -> list[str]:
        """Fixed files the run changed."""
        fixed = set(self.fixed)
        return [name for name in self.changed() if name in fixed]

    def outputs(self) -> list[str]:
        """Files the run wrote: created, or copied and written again (fixed ones excepted)."""
        fixed = set(self.fixed)
        created = [n for n in project_files(self.root)
                   if n not in self.copied and n not in self.edit]
        written = [n for n, stamp in self.stamps.items() if _stamp(self.root / n) != stamp]
        return sorted({*created, *(n for n in (*self.changed(), *written) if n not in fixed)})

    def hand_over(self, target: Path) -> None:
        """Move this run's outputs into another copy of the project (regular files only)."""
        for name in self.outputs():
            source = self.root / name
            if source.is_symlink() or not source.is_file():
                continue
            destination = target / name
            destination.parent.mkdir(parents=True, exist_ok=True)
            os.replace(source, destination)


def prepare_workspace(source: Path, target: Path, files: dict[str, str],
                      hidden: tuple[Path, ...] = (), link_bytes: int = LINK_BYTES,
                      outputs: frozenset[str] | None = frozenset()) -> Workspace:
    """Copy `source` to `target`, then write the editable `files` (relative path -> text).

    `outputs`: the files a run may overwrite (copied writable); None trusts the run with every
    file (the user's own code: whatever it writes is an output)."""
    copied: dict[str, str] = {}
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
            writable = stat.S_IWUSR if outputs is None or name in outputs else 0
            copy.chmod(READ_ONLY | writable | (original.stat().st_mode & EXECUTABLE))
        copied[name] = fingerprint(copy)
    for name, text in files.items():
        path = target / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    stamps = {name: _stamp(target / name) for name in copied}
    return Workspace(target, copied, outputs, frozenset(files), tuple(linked), stamps)


def _stamp(path: Path) -> int:
    try:
        return path.lstat().st_mtime_ns
    except OSError:
        return -1


def remove_tree(path: Path) -> None:
    """Remove a run's directory even if the run made parts of it read-only."""
    for folder, _, _ in os.walk(path):
        with contextlib.suppress(OSError):
            os.chmod(folder, stat.S_IRWXU)
    shutil.rmtree(path, ignore_errors=True)
