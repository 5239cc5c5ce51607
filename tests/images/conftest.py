"""Image datasets made by the tests in the official formats, and the real Fashion-MNIST."""

from __future__ import annotations

import gzip
import io
import pickle
import tarfile
from pathlib import Path

import numpy as np
import pytest

from autoresearch.tasks import PreparedData, get_task


def idx_bytes(array: np.ndarray) -> bytes:
    """An IDX file of unsigned bytes, the format of the MNIST family."""
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(
        int(d).to_bytes(4, "big") for d in array.shape)
    return header + np.ascontiguousarray(array, dtype=np.uint8).tobytes()


def fashion_files(folder: Path, train: int = 200, test: int = 50) -> Path:
    """The four Fashion-MNIST files, gzip-compressed, with random images and balanced labels."""
    rng = np.random.default_rng(0)
    folder.mkdir(parents=True, exist_ok=True)
    for prefix, n in (("train", train), ("t10k", test)):
        images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
        labels = (np.arange(n) % 10).astype(np.uint8)
        (folder / f"{prefix}-images-idx3-ubyte.gz").write_bytes(gzip.compress(idx_bytes(images)))
        (folder / f"{prefix}-labels-idx1-ubyte.gz").write_bytes(gzip.compress(idx_bytes(labels)))
    return folder


def cifar_batch(n: int, offset: int) -> bytes:
    """One CIFAR-10 python batch: pixel value = (image index + 7 * channel) % 256."""
    index = np.arange(offset, offset + n)
    planes = [np.repeat(((index + 7 * c) % 256)[:, None], 1024, axis=1) for c in range(3)]
    data = np.concatenate(planes, axis=1).astype(np.uint8)
    batch = {b"batch_label": b"made up", b"labels": [int(i % 10) for i in index],
             b"data": data, b"filenames": [b"x.png"] * n}
    return pickle.dumps(batch, protocol=2)


def cifar_tarball(path: Path, per_batch: int = 20) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    with tarfile.open(path, "w:gz") as archive:
        for i, name in enumerate(names):
            blob = cifar_batch(per_batch, i * per_batch)
            info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
            info.size = len(blob)
            archive.addfile(info, io.BytesIO(blob))
    return path


@pytest.fixture(scope="session")
def fashion_data(cache_dir: Path) -> PreparedData:
    """The real Fashion-MNIST (Debian's dataset-fashion-mnist, installed by .ci/run)."""
    return get_task("fashion_mnist").prepare(cache_dir, offline=True)


@pytest.fixture(scope="session")
def small_fashion(tmp_path_factory: pytest.TempPathFactory) -> PreparedData:
    """Made-up Fashion-MNIST-format data, prepared by the real loader."""
    from autoresearch.tasks.fashion_mnist import data

    root = tmp_path_factory.mktemp("small-fashion")
    return data.prepare(root / "cache", offline=True,
                        system_dir=fashion_files(root / "system", train=400, test=100))
