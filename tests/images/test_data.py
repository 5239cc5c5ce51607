"""The real loaders on files in the official formats, made by the tests."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from autoresearch.errors import DataUnavailableError
from autoresearch.tasks import get_task
from autoresearch.tasks._image_data import md5_of, read_idx
from autoresearch.tasks.cifar10 import data as cifar
from autoresearch.tasks.fashion_mnist import data as fashion

from .conftest import cifar_batch, cifar_tarball, fashion_files, idx_bytes


def read_split(directory, split, shape):
    labels = np.fromfile(directory / f"{split}_labels.bin", dtype=np.uint8)
    images = np.fromfile(directory / f"{split}_images.bin", dtype=np.uint8)
    return images.reshape(len(labels), *shape), labels


def test_idx_files_plain_and_gzipped():
    array = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    assert (read_idx(idx_bytes(array)) == array).all()
    import gzip

    assert (read_idx(gzip.compress(idx_bytes(array))) == array).all()
    with pytest.raises(DataUnavailableError, match="magic"):
        read_idx(b"\x00\x00\x0d\x01" + b"\0" * 8)
    with pytest.raises(DataUnavailableError, match="header says"):
        read_idx(idx_bytes(array)[:-1])


def test_cifar_tarball_is_split_into_train_val_and_sealed_test(tmp_path):
    tarball = cifar_tarball(tmp_path / "cache" / "downloads" / cifar.TARBALL, per_batch=20)
    prepared = cifar.prepare(tmp_path / "cache", offline=True, md5=md5_of(tarball))
    assert prepared.sizes["train_labels"] == 90 and prepared.sizes["val_labels"] == 10
    assert prepared.sizes["test_images"] == 20 * 3 * 32 * 32
    images, labels = read_split(prepared.directory, "val", (3, 32, 32))
    # The last 10 training images (indices 90..99), channel planes in R, G, B order.
    assert list(labels) == [i % 10 for i in range(90, 100)]
    assert images[0, 0, 5, 5] == 90 and images[0, 2, 31, 31] == 90 + 14
    test_images, _ = read_split(prepared.directory, "test", (3, 32, 32))
    assert test_images[0, 1, 0, 0] == 100 + 7
    # Prepared once: the cached splits are used even when the tarball is gone.
    tarball.unlink()
    again = cifar.prepare(tmp_path / "cache", offline=True, md5="0" * 32)
    assert again.content_hash == prepared.content_hash and "CIFAR-10" in again.source


def test_cifar_offline_without_the_tarball_says_where_to_put_it(tmp_path):
    with pytest.raises(DataUnavailableError) as caught:
        get_task("cifar10").prepare(tmp_path, offline=True)
    message = str(caught.value)
    assert str(tmp_path / "downloads" / cifar.TARBALL) in message and cifar.URL in message


def test_cifar_tarball_with_a_wrong_checksum_is_refused(tmp_path):
    cifar_tarball(tmp_path / "downloads" / cifar.TARBALL)
    with pytest.raises(DataUnavailableError, match="checksum"):
        cifar.prepare(tmp_path, offline=True)  # the official md5
    assert not (tmp_path / "cifar10" / "manifest.json").exists()


def test_cifar_batches_cannot_run_code():
    class Exploit:
        def __reduce__(self):
            import os

            return (os.system, ("echo pwned",))

    assert len(cifar.read_batch(cifar_batch(3, 0))[1]) == 3
    with pytest.raises(pickle.UnpicklingError, match=r"(posix|os)\.system"):
        cifar.read_batch(pickle.dumps({b"data": Exploit()}, protocol=2))


def test_fashion_files_from_a_system_folder(tmp_path):
    system = fashion_files(tmp_path / "system", train=200, test=50)
    prepared = fashion.prepare(tmp_path / "cache", offline=True, system_dir=system)
    assert prepared.sizes["train_labels"] == 180 and prepared.sizes["val_labels"] == 20
    assert prepared.sizes["test_labels"] == 50 and "Debian package" in prepared.source
    # Raw files (they hold the test labels) stay out of the prepared directory.
    assert sorted(p.name for p in prepared.directory.iterdir()) == sorted(
        ["manifest.json"] + [f"{s}_{k}.bin" for s in ("train", "val", "test")
                             for k in ("images", "labels")])


def test_fashion_downloaded_files_are_verified(tmp_path):
    fashion_files(tmp_path / "downloads" / "fashion-mnist")  # not the official files
    with pytest.raises(DataUnavailableError, match="checksum"):
        fashion.prepare(tmp_path, offline=True, system_dir=tmp_path / "none")


def test_fashion_offline_without_any_copy_names_the_package(tmp_path):
    with pytest.raises(DataUnavailableError, match="dataset-fashion-mnist"):
        fashion.prepare(tmp_path, offline=True, system_dir=tmp_path / "none")


def test_real_fashion_mnist_split(fashion_data):
    assert fashion_data.sizes["train_labels"] == 55_000
    assert fashion_data.sizes["val_labels"] == 5_000
    assert fashion_data.sizes["test_labels"] == 10_000
    _, labels = read_split(fashion_data.directory, "val", (1, 28, 28))
    assert set(np.bincount(labels)) and min(np.bincount(labels)) > 400  # every class present
