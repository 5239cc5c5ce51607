"""Data files handed to a process in memory: a memfd holding a JSON header and the bytes.

Both kinds of split travel this way, to different processes: the training files reach a seed
run when it first asks for them (that request starts its training clock), and the sealed
validation and test files reach only the evaluator, which runs no candidate code. No data file
is visible inside a run's sandbox.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

SEALED_PREFIXES = ("val", "test")


def split_data_files(data_dir: Path) -> tuple[list[Path], list[Path]]:
    """(training files, sealed files) of a prepared data directory."""
    files = sorted(p for p in data_dir.iterdir() if p.is_file() and not p.name.startswith("."))
    sealed = [p for p in files if p.name.startswith(SEALED_PREFIXES)]
    return [p for p in files if p not in sealed and p.suffix == ".bin"], sealed


def pack_files(paths: list[Path]) -> int:
    """A memfd holding a JSON header line {name: size} followed by the files' bytes."""
    fd = os.memfd_create("autoresearch-data", 0)
    header = {p.name: p.stat().st_size for p in paths}
    with os.fdopen(os.dup(fd), "wb") as out:
        out.write(json.dumps(header).encode() + b"\n")
        for path in paths:
            out.write(path.read_bytes())
    os.lseek(fd, 0, os.SEEK_SET)
    return fd


def unpack_files(fd: int) -> dict[str, bytes]:
    with os.fdopen(fd, "rb") as handle:
        header = json.loads(handle.readline())
        return {name: handle.read(size) for name, size in header.items()}
