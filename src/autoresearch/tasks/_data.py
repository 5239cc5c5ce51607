"""Prepared task data: split files on disk plus a manifest with the content hash."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

MANIFEST = "manifest.json"


@dataclass(frozen=True)
class PreparedData:
    directory: Path
    content_hash: str
    source: str
    sizes: dict[str, int]

    def split_path(self, split: str) -> Path:
        return self.directory / f"{split}.bin"

    @classmethod
    def load(cls, directory: Path) -> PreparedData | None:
        manifest = directory / MANIFEST
        if not manifest.exists():
            return None
        meta = json.loads(manifest.read_text())
        return cls(directory, meta["content_hash"], meta["source"], meta["sizes"])


def write_splits(directory: Path, splits: dict[str, bytes], source: str) -> PreparedData:
    """Write each split, then the manifest last, so a half-written cache is never trusted."""
    directory.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    for name in sorted(splits):
        digest.update(name.encode() + b"\0" + splits[name])
        tmp = directory / f".{name}.bin.tmp"
        tmp.write_bytes(splits[name])
        os.replace(tmp, directory / f"{name}.bin")
    meta = {
        "content_hash": digest.hexdigest()[:16],
        "source": source,
        "sizes": {k: len(v) for k, v in splits.items()},
    }
    tmp = directory / f".{MANIFEST}.tmp"
    tmp.write_text(json.dumps(meta, indent=2))
    os.replace(tmp, directory / MANIFEST)
    return PreparedData(directory, meta["content_hash"], source, meta["sizes"])
