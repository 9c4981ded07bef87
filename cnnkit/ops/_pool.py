"""Max and average pooling of NumPy images, with Keras' defaults and padding rules."""

from __future__ import annotations

from typing import Any

import numpy as np

from cnnkit._errors import invalid_type
from cnnkit.ops._checks import as_image, check_choice, pair
from cnnkit.ops._correlate import pad_for_conv

__all__ = ["POOL_MODES", "POOL_PADDINGS", "global_pool", "pool2d"]

POOL_MODES = ("max", "avg")
POOL_PADDINGS = ("valid", "same")


def pool2d(
    x: Any,
    pool_size: int | tuple[int, int] = 2,
    strides: int | tuple[int, int] | None = None,
    padding: str = "valid",
    mode: str = "max",
) -> np.ndarray:
    """Max or average pooling of each channel separately.

    Args:
        x: ``(H, W)`` or ``(H, W, C)`` image.
        pool_size: Window ``(ph, pw)`` or an int; default 2.
        strides: Step; ``None`` (default) means ``pool_size``, as in Keras.
        padding: ``"valid"`` (default) or ``"same"`` (TensorFlow rule: output
            ``ceil(n / s)``, extra pixel bottom/right). Padded pixels never win
            a max and are not counted in an average (Keras/TF behaviour).
        mode: ``"max"`` (default) or ``"avg"``.

    Returns:
        ``(oh, ow[, C])``. Max pooling keeps the dtype of ``x``; average pooling
        of integers gives float64. NaN in a window gives NaN.
    """
    image = as_image(x, "x", "pool2d")
    check_choice(mode, POOL_MODES, "mode", "pooling mode")
    check_choice(padding, POOL_PADDINGS, "padding", "pooling padding")
    size = pair(pool_size, "pool_size", "pool2d")
    step = size if strides is None else pair(strides, "strides", "pool2d")
    if mode == "max":
        dtype = image.dtype
        fill = -np.inf if np.issubdtype(dtype, np.floating) else _lowest(dtype)
    else:
        dtype = image.dtype if np.issubdtype(image.dtype, np.inexact) else np.dtype(np.float64)
        fill = 0
    xp = pad_for_conv(image, size, step, padding, (1, 1), dtype, "pool2d", fill=fill)
    oh = (xp.shape[0] - size[0]) // step[0] + 1
    ow = (xp.shape[1] - size[1]) // step[1] + 1
    out = _reduce_windows(xp, size, step, (oh, ow), np.maximum if mode == "max" else np.add)
    if mode == "max":
        return out
    if xp.shape[:2] == image.shape[:2]:
        return out / (size[0] * size[1])
    # Count the real (unpadded) pixels under each window by pooling a mask of ones.
    mask = pad_for_conv(np.ones(image.shape[:2]), size, step, padding, (1, 1), dtype, "pool2d")
    counts = _reduce_windows(mask, size, step, (oh, ow), np.add)
    return out / (counts if image.ndim == 2 else counts[..., None])


def global_pool(x: Any, mode: str = "avg") -> np.ndarray:
    """Pool each channel over the whole image: ``(H, W)`` -> scalar, ``(H, W, C)`` -> ``(C,)``.

    Args:
        x: ``(H, W)`` or ``(H, W, C)`` image.
        mode: ``"avg"`` (default, Keras ``GlobalAveragePooling2D``) or ``"max"``.
    """
    image = as_image(x, "x", "global_pool")
    check_choice(mode, POOL_MODES, "mode", "pooling mode")
    if mode == "max":
        return np.max(image, axis=(0, 1))
    return np.mean(image, axis=(0, 1))


def _lowest(dtype: np.dtype) -> Any:
    """A padding value that never wins a max: the smallest value of ``dtype``."""
    if dtype == np.bool_:
        return False
    if np.issubdtype(dtype, np.complexfloating):
        raise invalid_type(
            "pool2d: max pooling needs real numbers; complex values have no order.",
            expected="an integer, bool or real floating image",
            received={"x.dtype": str(dtype)},
        )
    return np.iinfo(dtype).min


def _reduce_windows(
    xp: np.ndarray,
    size: tuple[int, int],
    step: tuple[int, int],
    out_hw: tuple[int, int],
    combine: np.ufunc,
) -> np.ndarray:
    """Combine the ``ph·pw`` strided shifts of ``xp`` with ``combine`` (one ufunc call per tap)."""
    oh, ow = out_hw
    out = None
    for i in range(size[0]):
        for j in range(size[1]):
            shifted = xp[
                i : i + (oh - 1) * step[0] + 1 : step[0], j : j + (ow - 1) * step[1] + 1 : step[1]
            ]
            out = shifted.copy() if out is None else combine(out, shifted, out=out)
    return out
