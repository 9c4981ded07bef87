"""2-D cross-correlation and convolution of NumPy images, vectorised.

``correlate2d`` is what deep-learning libraries call "convolution"
(``torch.nn.functional.conv2d``, Keras ``Conv2D``): the kernel slides over the
image *unflipped*. ``convolve2d`` is the mathematical convolution: the same
with the kernel flipped in both axes.

The work is done by the two engines in :mod:`cnnkit.ops._engines`: shifted
multiply-adds over cached bands for a single kernel or a few filters, im2col
plus a BLAS matrix product for filter banks. Neither loops over pixels in Python.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from cnnkit._errors import invalid_type, invalid_value
from cnnkit.ops._checks import as_image, pair
from cnnkit.ops._engines import im2col, shifted
from cnnkit.ops._pad import parse_width
from cnnkit.ops._shapes import resolve_padding

__all__ = [
    "as_kernel",
    "compute_dtype",
    "conv_pads",
    "convolve2d",
    "correlate2d",
    "pad_for_conv",
]


def as_kernel(kernel: Any, where: str) -> np.ndarray:
    """Return ``kernel`` as a numeric ``(kh, kw)``, ``(kh, kw, C)`` or ``(kh, kw, C, F)`` array."""
    k = np.asarray(kernel)
    if not (np.issubdtype(k.dtype, np.number) or k.dtype == np.bool_):
        raise invalid_type(
            f"{where}: `kernel` must hold numbers.",
            expected="an integer, float or complex array",
            received={"kernel.dtype": str(k.dtype)},
        )
    if k.ndim not in (2, 3, 4) or 0 in k.shape:
        raise invalid_value(
            f"{where}: `kernel` must be (kh, kw), (kh, kw, C) or a filter bank (kh, kw, C, F).",
            expected="a non-empty array with ndim 2, 3 or 4",
            received={"kernel.shape": k.shape},
        )
    return k


def compute_dtype(x: np.ndarray, k: np.ndarray) -> np.dtype:
    """Floating and complex images keep their dtype; integer and bool images use float64."""
    base = x.dtype if np.issubdtype(x.dtype, np.inexact) else np.dtype(np.float64)
    return np.result_type(base, k.dtype) if np.iscomplexobj(k) else base


def conv_pads(
    shape_hw: tuple[int, int],
    kernel_hw: tuple[int, int],
    strides: tuple[int, int],
    padding: Any,
    dilation: tuple[int, int],
    where: str,
) -> tuple[tuple[int, int], tuple[int, int]]:
    """``((top, bottom), (left, right))`` for ``padding``, which is a name (``"valid"``,
    ``"same"``, ``"full"``), an int, ``(rows, cols)`` or ``((top, bottom), (left, right))``.

    Raises ``ValueError`` when the (dilated) kernel does not fit the padded input.
    """
    per_axis = (
        [padding, padding] if isinstance(padding, str) else parse_width(padding, "padding", where)
    )
    rows, cols = (
        resolve_padding(shape_hw[a], kernel_hw[a], strides[a], per_axis[a], dilation[a], where)
        for a in (0, 1)
    )
    return rows, cols


def pad_for_conv(
    x: np.ndarray,
    kernel_hw: tuple[int, int],
    strides: tuple[int, int],
    padding: Any,
    dilation: tuple[int, int],
    dtype: np.dtype,
    where: str,
    fill: float = 0,
) -> np.ndarray:
    """Pad ``x`` with ``fill`` (default zeros) as :func:`conv_pads` says, casting to ``dtype``.

    Returns ``x`` itself when nothing needs padding or casting (callers never write to it).
    """
    (top, bottom), (left, right) = conv_pads(
        x.shape[:2], kernel_hw, strides, padding, dilation, where
    )
    if top == bottom == left == right == 0:
        return x if x.dtype == dtype else x.astype(dtype)
    h, w = x.shape[:2]
    out = np.full((h + top + bottom, w + left + right, *x.shape[2:]), fill, dtype=dtype)
    out[top : top + h, left : left + w] = x
    return out


def correlate2d(
    x: Any,
    kernel: Any,
    strides: int | tuple[int, int] = 1,
    padding: Any = "valid",
    dilation: int | tuple[int, int] = 1,
) -> np.ndarray:
    """Cross-correlate an image with a kernel (deep learning's "convolution").

    ``out[r, c] = Σᵢ Σⱼ kernel[i, j] · xpad[r·s + i·d, c·s + j·d]``, summed over
    channels as well for 3-D and 4-D kernels.

    Args:
        x: ``(H, W)`` or ``(H, W, C)`` image.
        kernel: ``(kh, kw)``: applied to each channel separately, output
            ``(oh, ow)`` or ``(oh, ow, C)``; ``(kh, kw, C)``: summed over the
            channels, output ``(oh, ow)``; ``(kh, kw, C, F)``: a filter bank,
            output ``(oh, ow, F)`` (the Keras ``Conv2D`` kernel layout).
        strides: Step ``s`` as an int or ``(rows, cols)``; default 1.
        padding: ``"valid"`` (default), ``"same"`` (TensorFlow/Keras rule: output
            ``ceil(n / s)``, the extra pixel of an odd total goes bottom/right),
            ``"full"``, an int, ``(rows, cols)``, or ``((top, bottom), (left, right))``.
            Padding is with zeros.
        dilation: Spacing ``d`` between kernel taps, int or ``(rows, cols)``; default 1.

    Returns:
        A new array. Floating inputs keep their dtype (the kernel is cast to it);
        integer and bool inputs give float64. NaN propagates as in NumPy.
    """
    return _correlate(x, kernel, strides, padding, dilation, "correlate2d", flip=False)


def convolve2d(
    x: Any,
    kernel: Any,
    strides: int | tuple[int, int] = 1,
    padding: Any = "valid",
    dilation: int | tuple[int, int] = 1,
) -> np.ndarray:
    """Convolve an image with a kernel, the mathematical way (kernel flipped in both axes).

    Exactly ``correlate2d(x, kernel[::-1, ::-1], ...)``; see :func:`correlate2d`
    for the arguments. For a symmetric kernel (box, gaussian) both agree; for
    sobel they differ in sign.
    """
    return _correlate(x, kernel, strides, padding, dilation, "convolve2d", flip=True)


def _correlate(
    x: Any, kernel: Any, strides: Any, padding: Any, dilation: Any, where: str, flip: bool
) -> np.ndarray:
    image = as_image(x, "x", where)
    k = as_kernel(kernel, where)
    if flip:
        k = k[::-1, ::-1]
    s = pair(strides, "strides", where)
    d = pair(dilation, "dilation", where)
    channels = image.shape[2] if image.ndim == 3 else 1
    if k.ndim >= 3 and k.shape[2] != channels:
        raise invalid_value(
            f"{where}: the kernel's channel axis does not match the image's channels.",
            expected=f"kernel.shape[2] == {channels} (the channels of x)",
            received={"x.shape": image.shape, "kernel.shape": k.shape},
        )
    dtype = compute_dtype(image, k)
    pads = conv_pads(image.shape[:2], k.shape[:2], s, padding, d, where)
    k = k.astype(dtype, copy=False)
    kh, kw = k.shape[:2]
    oh = (image.shape[0] + sum(pads[0]) - (kh - 1) * d[0] - 1) // s[0] + 1
    ow = (image.shape[1] + sum(pads[1]) - (kw - 1) * d[1] - 1) // s[1] + 1
    if k.ndim == 2:
        out = np.empty((oh, ow, *image.shape[2:]), dtype=dtype)
        return shifted([image], pads, k[..., None], out, s, d)
    bank = k if k.ndim == 4 else k[..., None]
    filters = bank.shape[3]
    if filters == 1 or (filters <= 3 and channels <= 4):
        # Few filters: one shifted pass per filter beats gathering windows (measured).
        planes = [image[..., c] for c in range(channels)] if image.ndim == 3 else [image]
        out = np.empty((filters, oh, ow), dtype=dtype)
        for f in range(filters):
            shifted(planes, pads, bank[..., f], out[f], s, d)
        out = np.ascontiguousarray(np.moveaxis(out, 0, -1))
    else:
        xp = pad_for_conv(image, k.shape[:2], s, pads, d, dtype, where)
        out = im2col(xp if xp.ndim == 3 else xp[..., None], bank, (oh, ow), s, d)
    return out[..., 0] if k.ndim == 3 else out
