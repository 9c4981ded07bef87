"""Small random-weight zoo models and images for the transfer tests (32×32 keeps them fast)."""

from __future__ import annotations

import numpy as np
import torch

from cnnkit.applications import EfficientNetLite0
from cnnkit.layers import BatchNormalization

SIZE = 32


def small_lite0(**kwargs: object) -> EfficientNetLite0:
    """EfficientNet-Lite0 with random weights at the smallest input it accepts.

    Its BatchNormalization statistics are calibrated on one batch of noise images:
    with the initial ones (mean 0, variance 1) the random network's features
    shrink to ~1e-13 and any comparison of them would pass vacuously.
    """
    kwargs.setdefault("include_top", False)
    model = EfficientNetLite0(weights=None, input_shape=(SIZE, SIZE, 3), **kwargs)
    layers = [m for m in model.modules() if isinstance(m, BatchNormalization)]
    for bn in layers:
        bn.momentum = 0.0  # Keras convention: the moving value becomes the batch value
    noise = torch.Generator().manual_seed(0)
    with torch.no_grad():
        model.forward_features(torch.rand(8, SIZE, SIZE, 3, generator=noise) * 2 - 1, training=True)
    for bn in layers:
        bn.momentum = 0.99
    return model


def two_class_images(n: int = 24, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Bright vs dark noise images (0..255 float32) with labels 1/0: easy to separate."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 2
    x = rng.uniform(0, 120, size=(n, SIZE, SIZE, 3)).astype(np.float32)
    x[y == 1] += 130.0
    return np.floor(x), y.astype(np.int64)  # whole numbers: exact as 8-bit image files
