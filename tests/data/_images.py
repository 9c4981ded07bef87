"""Small image folders written with Pillow for the loader tests."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image


def solid(path: Path, color, size=(12, 10), mode="RGB", fmt=None) -> Path:
    """Save a ``size`` (width, height) image of one ``color`` in ``mode``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new(mode, size, color).save(path, format=fmt)
    return path


def truncated_jpeg(path: Path) -> Path:
    """A JPEG cut off after 60 % of its bytes: the header parses, decoding fails."""
    rng = np.random.default_rng(0)
    buf = io.BytesIO()
    Image.fromarray(rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)).save(buf, "JPEG")
    data = buf.getvalue()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data[: int(len(data) * 0.6)])
    return path


def class_tree(root: Path, counts: dict[str, int], size=(12, 10)) -> Path:
    """``root/<class>/<i>.png`` where image i of class k has red = 10*k + i, green = i."""
    for k, (name, n) in enumerate(counts.items()):
        for i in range(n):
            solid(root / name / f"{i:03d}.png", (10 * k + i, i, 200), size)
    return root
