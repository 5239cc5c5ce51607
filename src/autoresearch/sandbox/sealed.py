"""Sealed splits: validation and test data reach the harness through a memory file descriptor.

The files never appear inside the sandbox (bubblewrap binds only the open files of the data
directory), and the bootstrap reads and closes the descriptor before candidate code runs, so
candidate code has no path and no descriptor to read them from.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

SEALED_PREFIXES = ("val", "test")


def split_data_files(data_dir: Path) -> tuple[list[Path], list[Path]]:
    """(files the run may read, sealed files) of a prepared data directory."""
    files = sorted(p for p in data_dir.iterdir() if p.is_file() and not p.name.startswith("."))
    sealed = [p for p in files if p.name.startswith(SEALED_PREFIXES)]
    return [p for p in files if p not in sealed], sealed


def pack_sealed(paths: list[Path]) -> int:
    """A memfd holding a JSON header line {name: size} followed by the files' bytes."""
    fd = os.memfd_create("autoresearch-sealed", 0)
    header = {p.name: p.stat().st_size for p in paths}
    with os.fdopen(os.dup(fd), "wb") as out:
        out.write(json.dumps(header).encode() + b"\n")
        for path in paths:
            out.write(path.read_bytes())
    os.lseek(fd, 0, os.SEEK_SET)
    return fd


def unpack_sealed(fd: int) -> dict[str, bytes]:
    with os.fdopen(fd, "rb") as handle:
        header = json.loads(handle.readline())
        return {name: handle.read(size) for name, size in header.items()}
