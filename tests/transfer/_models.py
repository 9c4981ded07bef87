"""Small random-weight zoo models and images for the transfer tests (32×32 keeps them fast)."""

from __future__ import annotations

import numpy as np

from cnnkit.applications import EfficientNetLite0

SIZE = 32


def small_lite0(**kwargs: object) -> EfficientNetLite0:
    """EfficientNet-Lite0 with random weights at the smallest input it accepts."""
    kwargs.setdefault("include_top", False)
    return EfficientNetLite0(weights=None, input_shape=(SIZE, SIZE, 3), **kwargs)


def two_class_images(n: int = 24, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Bright vs dark noise images (0..255 float32) with labels 1/0: easy to separate."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 2
    x = rng.uniform(0, 120, size=(n, SIZE, SIZE, 3)).astype(np.float32)
    x[y == 1] += 130.0
    return x, y.astype(np.int64)
