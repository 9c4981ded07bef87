"""Small files in the official dataset formats, generated for the tests."""

from __future__ import annotations

import gzip
import io
import pickle
import tarfile
from pathlib import Path

import numpy as np


def write_idx_gz(path: Path, array: np.ndarray) -> Path:
    """Write ``array`` (uint8) as a gzip-compressed idx file."""
    header = bytes([0, 0, 0x08, array.ndim]) + np.asarray(array.shape, dtype=">u4").tobytes()
    path.write_bytes(gzip.compress(header + np.ascontiguousarray(array, np.uint8).tobytes()))
    return path


def cifar_batch(rng: np.random.Generator, n: int, label_keys: tuple[str, ...]) -> dict:
    """A batch dict as in the CIFAR python files: planar-RGB rows and label lists."""
    batch: dict = {b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8)}
    for key in label_keys:
        batch[key.encode()] = [int(v) for v in rng.integers(0, 10, n)]
    return batch


def write_tarball(path: Path, members: dict[str, object], *, raw: bool = False) -> Path:
    """Write a ``.tar.gz`` whose members are pickles of ``members`` (or raw bytes)."""
    with tarfile.open(path, "w:gz") as tar:
        for name, obj in members.items():
            data = obj if raw else pickle.dumps(obj, protocol=4)
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


class Hostile:
    """Unpickling this runs ``os.system`` -- unless the unpickler refuses it."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        import os

        return (os.system, (f"touch {self.marker}",))
