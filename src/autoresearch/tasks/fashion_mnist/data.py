"""Fashion-MNIST: Debian's `dataset-fashion-mnist` package when installed, else the official
files, downloaded and checksum-verified into the cache.

Split: the last 5,000 of the 60,000 training images are the validation split; the official
10,000 test images are the sealed test split. The raw files hold the test labels, so they are
kept out of the prepared data directory and hidden from runs.
"""

from __future__ import annotations

from pathlib import Path

from autoresearch.errors import DataUnavailableError
from autoresearch.tasks._data import PreparedData
from autoresearch.tasks._image_data import (
    download,
    hold_out,
    read_idx,
    verified,
    write_image_splits,
)

DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")
URL = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"
FILES = {  # name -> md5 of the official gzip file
    "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
    "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
    "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
    "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
}
VAL_IMAGES = 5_000


def _locate(raw: Path, offline: bool, system_dir: Path) -> tuple[dict[str, Path], str]:
    if all((system_dir / name).is_file() for name in FILES):
        return {name: system_dir / name for name in FILES}, f"Debian package ({system_dir})"
    missing = [name for name in FILES if not (raw / name).is_file()]
    if missing and offline:
        raise DataUnavailableError(
            f"Fashion-MNIST is not installed: run `apt-get install dataset-fashion-mnist`, or put "
            f"{', '.join(missing)} (from {URL}) into {raw}, or run without --offline"
        )
    for name in missing:
        download(URL + name, raw / name, FILES[name])
    label = "download" if missing else f"files in {raw}"
    return {name: verified(raw / name, md5) for name, md5 in FILES.items()}, label


def raw_files(cache_dir: Path, system_dir: Path = DEBIAN_DIR) -> list[Path]:
    """Files holding the sealed labels, which runs must not see."""
    return [folder / name for folder in (system_dir, cache_dir / "downloads" / "fashion-mnist")
            for name in FILES]


def prepare(cache_dir: Path, offline: bool, system_dir: Path = DEBIAN_DIR) -> PreparedData:
    target = cache_dir / "fashion_mnist"
    cached = PreparedData.load(target)
    if cached is not None:
        return cached
    paths, source = _locate(cache_dir / "downloads" / "fashion-mnist", offline, system_dir)
    arrays = {name: read_idx(path.read_bytes()) for name, path in paths.items()}
    train_images = arrays["train-images-idx3-ubyte.gz"][:, None]  # N x 1 x 28 x 28
    train_labels = arrays["train-labels-idx1-ubyte.gz"]
    train, val = hold_out(train_images, train_labels, min(VAL_IMAGES, len(train_labels) // 10))
    test = (arrays["t10k-images-idx3-ubyte.gz"][:, None], arrays["t10k-labels-idx1-ubyte.gz"])
    return write_image_splits(target, {"train": train, "val": val, "test": test},
                              f"Fashion-MNIST, {source}")
