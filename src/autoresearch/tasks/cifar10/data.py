"""CIFAR-10: the official python tarball, downloaded once, md5-verified and cached.

Offline, put ``cifar-10-python.tar.gz`` into ``<cache dir>/downloads/`` (the error says where).
The tarball is kept out of the prepared data directory, and hidden from runs, because it holds
the test labels.
Split: the last 5,000 of the 50,000 training images are the validation split; the official
10,000 test images are the sealed test split.
"""

from __future__ import annotations

import io
import pickle
import tarfile
from pathlib import Path
from typing import Any

import numpy as np

from autoresearch.errors import DataUnavailableError
from autoresearch.tasks._data import PreparedData
from autoresearch.tasks._image_data import download, hold_out, verified, write_image_splits

URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
TARBALL = "cifar-10-python.tar.gz"
TARBALL_MD5 = "c58f30108f718f92721af3b95e74349a"
TRAIN_BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6))
VAL_IMAGES = 5_000


# What a pickled batch may refer to: numpy's array reconstruction, and the bytes encoder that
# protocol-2 pickles written by Python 3 use.
_ALLOWED = {("numpy", "_reconstruct"), ("numpy", "ndarray"), ("numpy", "dtype"),
            ("numpy", "scalar"), ("_codecs", "encode")}


class _BatchUnpickler(pickle.Unpickler):
    """A CIFAR batch is a dict of bytes, lists and numpy arrays; nothing else may load."""

    def find_class(self, module: str, name: str) -> Any:
        if (module.split(".")[0], name) in _ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"unexpected object {module}.{name} in a CIFAR batch")


def read_batch(blob: bytes) -> tuple[np.ndarray, np.ndarray]:
    """Images (N x 3 x 32 x 32, uint8) and labels of one pickled CIFAR-10 batch."""
    batch = _BatchUnpickler(io.BytesIO(blob), encoding="bytes").load()
    data = np.asarray(batch[b"data"], dtype=np.uint8)
    labels = np.asarray(batch[b"labels"], dtype=np.uint8)
    return data.reshape(len(data), 3, 32, 32), labels


def read_tarball(path: Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Every batch of the tarball, read in memory (nothing is extracted to disk)."""
    found: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    with tarfile.open(path, "r:gz") as archive:
        for member in archive.getmembers():
            name = member.name.rsplit("/", 1)[-1]
            if member.isfile() and name in (*TRAIN_BATCHES, "test_batch"):
                handle = archive.extractfile(member)
                assert handle is not None
                found[name] = read_batch(handle.read())
    missing = [n for n in (*TRAIN_BATCHES, "test_batch") if n not in found]
    if missing:
        raise DataUnavailableError(f"{path} lacks the batches {', '.join(missing)}; delete it "
                                   f"and put the official {TARBALL} there")
    return found


def raw_files(cache_dir: Path) -> list[Path]:
    """Files holding the sealed labels, which runs must not see."""
    return [cache_dir / "downloads" / TARBALL]


def prepare(cache_dir: Path, offline: bool, md5: str = TARBALL_MD5) -> PreparedData:
    target = cache_dir / "cifar10"
    cached = PreparedData.load(target)
    if cached is not None:
        return cached
    tarball = raw_files(cache_dir)[0]
    source = f"{TARBALL} in cache"
    if not tarball.is_file():
        if offline:
            raise DataUnavailableError(
                f"CIFAR-10 is not cached: download {URL} and put it at {tarball} (md5 {md5}), "
                "or run without --offline"
            )
        download(URL, tarball, md5)
        source = f"{TARBALL} (download)"
    batches = read_tarball(verified(tarball, md5))
    images = np.concatenate([batches[n][0] for n in TRAIN_BATCHES])
    labels = np.concatenate([batches[n][1] for n in TRAIN_BATCHES])
    train, val = hold_out(images, labels, min(VAL_IMAGES, len(labels) // 10))
    return write_image_splits(target, {"train": train, "val": val,
                                       "test": batches["test_batch"]}, f"CIFAR-10, {source}")
