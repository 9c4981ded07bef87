"""Parse the idx format of MNIST and Fashion-MNIST (gzip-compressed).

An idx file is a big-endian header -- two zero bytes, a type code (0x08 for
unsigned bytes) and the number of dimensions -- then one 32-bit size per
dimension, then the raw values in C order. The payload is read straight into a
preallocated NumPy array, so the 47 MB of MNIST images are never copied.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

from cnnkit._errors import invalid_value

__all__ = ["load_idx_dataset", "read_idx_gz"]

_UBYTE = 0x08


def _corrupt(path: Path, problem: str) -> ValueError:
    return invalid_value(
        f"{path} is not a valid idx file: {problem}.",
        hint="Delete it so that cnnkit fetches the official file again.",
    )


def read_idx_gz(path: Path, ndim: int) -> np.ndarray:
    """Read a gzip-compressed idx file of unsigned bytes.

    Args:
        path: The ``.gz`` file.
        ndim: The number of dimensions expected (3 for images, 1 for labels).

    Returns:
        A writable uint8 array with the shape stored in the header, e.g.
        ``(60000, 28, 28)`` for MNIST training images.

    Raises:
        ValueError: The header is not an idx header of uint8 with ``ndim``
            dimensions, or the payload is shorter or longer than the header says.
    """
    path = Path(path)
    with gzip.open(path, "rb") as f:
        magic = f.read(4)
        if len(magic) != 4 or magic[:2] != b"\0\0":
            raise _corrupt(path, f"bad magic number {magic!r}")
        if magic[2] != _UBYTE or magic[3] != ndim:
            raise _corrupt(
                path,
                f"expected type 0x08 (uint8) with {ndim} dims, got {magic[2]:#04x}, {magic[3]}",
            )
        header = f.read(4 * ndim)
        if len(header) != 4 * ndim:
            raise _corrupt(path, "truncated header")
        shape = tuple(int(s) for s in np.frombuffer(header, dtype=">u4"))
        out = np.empty(shape, dtype=np.uint8)
        view = memoryview(out).cast("B")
        filled = 0
        while filled < len(view):
            n = f.readinto(view[filled:])
            if not n:
                raise _corrupt(path, f"payload has {filled} bytes, the header says {len(view)}")
            filled += n
        if f.read(1):
            raise _corrupt(path, "payload is longer than the header says")
    return out


def load_idx_dataset(
    dataset: str, *, folders: tuple[str, ...], urls: tuple[str, ...], sha256: dict[str, str]
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Fetch and parse the four official idx files of an MNIST-format dataset.

    Args:
        dataset: Cache sub-folder name (``"mnist"``).
        folders: Sub-folders of each ``CNNKIT_DATA`` directory holding the files.
        urls: Base URLs (official first, then mirrors), each ending in ``/``.
        sha256: The official digest of each of the four ``.gz`` files.

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: uint8 arrays of shapes
        ``(n, 28, 28)`` and ``(n,)``.
    """
    from cnnkit.datasets._fetch import fetch

    def part(name: str, ndim: int) -> np.ndarray:
        path = fetch(
            name,
            dataset=dataset,
            folders=folders,
            urls=[u + name for u in urls],
            sha256=sha256[name],
        )
        return read_idx_gz(path, ndim)

    x_train = part("train-images-idx3-ubyte.gz", 3)
    y_train = part("train-labels-idx1-ubyte.gz", 1)
    x_test = part("t10k-images-idx3-ubyte.gz", 3)
    y_test = part("t10k-labels-idx1-ubyte.gz", 1)
    return (x_train, y_train), (x_test, y_test)
