"""What the generative examples share: real MNIST as floats in [0, 1], and a sample-grid PNG.

MNIST comes from ``cnnkit.datasets.mnist.load_data()``, which reads the official
files from the folders in ``CNNKIT_DATA`` (or its cache); nothing is written.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from cnnkit.datasets import mnist


def load_mnist(
    limit: int | None = None, test_all: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``x_train, y_train, x_test, y_test``; images float32 ``(n, 28, 28, 1)`` in [0, 1].

    Args:
        limit: Keep the first ``limit`` training and ``limit // 6`` test images (tests).
        test_all: Keep all 10,000 test images even with a ``limit`` (shorter benchmarks).
    """
    (x_train, y_train), (x_test, y_test) = mnist.load_data()
    if limit is not None:
        x_train, y_train = x_train[:limit], y_train[:limit]
        if not test_all:
            x_test, y_test = x_test[: max(limit // 6, 1)], y_test[: max(limit // 6, 1)]
    scale = np.float32(1 / 255)
    return (x_train[..., None] * scale, y_train, x_test[..., None] * scale, y_test)


def save_grid(images: np.ndarray, path: str | Path, columns: int = 10, title: str = "") -> Path:
    """Write ``images`` ``(n, 28, 28, 1)`` in [0, 1] as one grey grid PNG (``columns`` wide)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    images = np.clip(np.asarray(images, dtype=np.float32)[..., 0], 0.0, 1.0)
    rows = -(-len(images) // columns)
    h, w = images.shape[1:3]
    canvas = np.ones((rows * (h + 2), columns * (w + 2)), np.float32)
    for i, image in enumerate(images):
        r, c = divmod(i, columns)
        canvas[r * (h + 2) + 1 : r * (h + 2) + 1 + h, c * (w + 2) + 1 : c * (w + 2) + 1 + w] = image
    fig, ax = plt.subplots(figsize=(columns * 0.6, rows * 0.6 + (0.4 if title else 0)))
    ax.imshow(canvas, cmap="gray", vmin=0.0, vmax=1.0, interpolation="nearest")
    ax.set_axis_off()
    if title:
        ax.set_title(title, fontsize=9)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)
    return path


def parser(description: str, epochs: int, out: str) -> argparse.ArgumentParser:
    """The examples' shared options: epochs, training-set limit, seed, output PNG, verbosity."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--epochs", type=int, default=epochs)
    p.add_argument("--limit", type=int, default=None, help="train on the first N images")
    p.add_argument("--test-all", action="store_true", help="score all 10,000 test images")
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default=out, help="sample-grid PNG to write")
    p.add_argument("--verbose", type=int, default=2)
    return p
