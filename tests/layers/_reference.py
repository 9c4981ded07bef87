"""Independent NumPy references used by the layer tests (loops, small sizes only)."""

from __future__ import annotations

import numpy as np


def tf_same_pads(n: int, k: int, s: int, d: int = 1) -> tuple[int, int]:
    """TensorFlow's SAME rule, written out independently of cnnkit."""
    out = -(-n // s)
    total = max((out - 1) * s + (k - 1) * d + 1 - n, 0)
    return total // 2, total - total // 2


def pool2d_nhwc(x: np.ndarray, k, s, pads, mode: str, include_pad: bool = False):
    """Max or mean pooling with padding cells ignored (or counted as zeros)."""
    n, c = x.shape[0], x.shape[-1]
    fill = -np.inf if mode == "max" else np.nan
    xp = np.pad(x, ((0, 0), *pads, (0, 0)), constant_values=fill)
    oh, ow = (xp.shape[1] - k[0]) // s[0] + 1, (xp.shape[2] - k[1]) // s[1] + 1
    y = np.zeros((n, oh, ow, c))
    for i in range(oh):
        for j in range(ow):
            win = xp[:, i * s[0] : i * s[0] + k[0], j * s[1] : j * s[1] + k[1]]
            if mode == "max":
                y[:, i, j] = win.max(axis=(1, 2))
            elif include_pad:
                y[:, i, j] = np.nansum(win, axis=(1, 2)) / (k[0] * k[1])
            else:
                y[:, i, j] = np.nanmean(win, axis=(1, 2))
    return y
