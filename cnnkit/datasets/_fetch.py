"""Locate one official dataset file: ``CNNKIT_DATA`` folders, then the cache, then the web."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from cnnkit.utils import data_dirs, find_or_download

__all__ = ["fetch", "parse_sha256sums"]


def fetch(
    filename: str,
    *,
    dataset: str,
    folders: Sequence[str],
    urls: Sequence[str],
    sha256: str,
    progress: bool = True,
) -> Path:
    """Return a verified path to ``filename`` of ``dataset``.

    Args:
        filename: The official file name, e.g. ``"t10k-images-idx3-ubyte.gz"``.
        dataset: The cache sub-folder name, e.g. ``"mnist"`` -> ``<cache>/datasets/mnist``.
        folders: Sub-folders of each ``CNNKIT_DATA`` directory to search, in
            order; ``""`` means the directory itself.
        urls: Official URL first, then mirrors.
        sha256: The official file's SHA-256.
        progress: Show a download progress bar.
    """
    search = [d / f if f else d for d in data_dirs() for f in folders]
    return find_or_download(
        filename,
        url=list(urls),
        sha256=sha256,
        subdir=f"datasets/{dataset}",
        search_dirs=search,
        progress=progress,
    )


def parse_sha256sums(text: str) -> dict[str, str]:
    """Parse ``sha256sum`` output (``<digest>  <name>`` per line) into ``{name: digest}``."""
    pairs = (line.split(maxsplit=1) for line in text.strip().splitlines())
    return {name.strip(): digest for digest, name in pairs}
