"""Image datasets on disk: verified downloads, IDX files, and the split files a harness reads.

Each split is two files, ``{split}_images.bin`` (uint8, N x C x H x W) and ``{split}_labels.bin``
(uint8, N), written by tasks/_data.py with a content hash. ``val`` and ``test`` are sealed by
the sandbox (they reach the harness in memory only).
"""

from __future__ import annotations

import gzip
import hashlib
import os
import urllib.request
from pathlib import Path

import numpy as np

from autoresearch.errors import DataUnavailableError
from autoresearch.tasks._data import PreparedData, write_splits

_IDX_DTYPES = {0x08: np.uint8}


def md5_of(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def verified(path: Path, md5: str) -> Path:
    """`path` if its checksum is `md5`; a mismatch is never used (it may be a partial file)."""
    found = md5_of(path)
    if found != md5:
        raise DataUnavailableError(
            f"{path} has checksum {found}, expected {md5}: it is damaged or not the official "
            "file; delete it and run again (or put the official file there)"
        )
    return path


def download(url: str, target: Path, md5: str, timeout: float = 30.0) -> Path:
    """Download to a temporary name, verify, then move into place (a cache is never partial)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".part")
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response, open(partial, "wb") as out:
            while chunk := response.read(1 << 20):
                out.write(chunk)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise DataUnavailableError(f"cannot download {url} ({exc}); put the file at {target} "
                                   "by hand, or check the network") from None
    try:
        verified(partial, md5)
    except DataUnavailableError:
        partial.unlink(missing_ok=True)
        raise
    os.replace(partial, target)
    return target


def read_idx(blob: bytes) -> np.ndarray:
    """An IDX array (the MNIST file format), gzip-compressed or not."""
    if blob[:2] == b"\x1f\x8b":
        blob = gzip.decompress(blob)
    if len(blob) < 4 or blob[:2] != b"\0\0" or blob[2] not in _IDX_DTYPES:
        raise DataUnavailableError("not an IDX file of unsigned bytes (bad magic number)")
    ndim = blob[3]
    dims = [int.from_bytes(blob[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    data = np.frombuffer(blob, dtype=_IDX_DTYPES[blob[2]], offset=4 + 4 * ndim)
    if data.size != int(np.prod(dims)):
        raise DataUnavailableError(f"IDX file holds {data.size} values, its header says {dims}")
    return data.reshape(dims)


def hold_out(images: np.ndarray, labels: np.ndarray, val_size: int
             ) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """The last `val_size` training images become the validation split: deterministic, and
    both official training sets are already in random order."""
    cut = len(labels) - val_size
    return (images[:cut], labels[:cut]), (images[cut:], labels[cut:])


def write_image_splits(directory: Path, splits: dict[str, tuple[np.ndarray, np.ndarray]],
                       source: str) -> PreparedData:
    blobs: dict[str, bytes] = {}
    for name, (images, labels) in splits.items():
        if images.dtype != np.uint8 or images.ndim != 4 or len(images) != len(labels):
            raise ValueError(f"split {name}: want uint8 N x C x H x W images and N labels")
        blobs[f"{name}_images"] = np.ascontiguousarray(images).tobytes()
        blobs[f"{name}_labels"] = np.asarray(labels, dtype=np.uint8).tobytes()
    return write_splits(directory, blobs, source)
