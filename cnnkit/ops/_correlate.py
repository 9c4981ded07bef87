"""2-D cross-correlation and convolution of NumPy images, vectorised.

``correlate2d`` is what deep-learning libraries call "convolution"
(``torch.nn.functional.conv2d``, Keras ``Conv2D``): the kernel slides over the
image *unflipped*. ``convolve2d`` is the mathematical convolution: the same
with the kernel flipped in both axes.

Two engines, chosen by the kernel's shape:

* *shifted accumulation* for a single kernel (and a few filters): one
  vectorised multiply-add per kernel tap over a band of output rows, the band
  sized so the accumulator stays in cache;
* *im2col + matrix product* for a filter bank: each band's windows are gathered
  into a matrix and multiplied with the flattened bank by BLAS.

Neither loops over pixels in Python.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from cnnkit._errors import invalid_type, invalid_value
from cnnkit.ops._checks import as_image, pair
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

# Elements per band of output rows: small enough that accumulator + temporary stay in L2.
_BAND_ELEMENTS = 1 << 16
# Elements of the gathered window matrix per band in the im2col engine (~8 MB of float64).
_GEMM_ELEMENTS = 1 << 20


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
    xp = pad_for_conv(image, k.shape[:2], s, padding, d, dtype, where)
    k = k.astype(dtype, copy=False)
    kh, kw = k.shape[:2]
    oh = (xp.shape[0] - (kh - 1) * d[0] - 1) // s[0] + 1
    ow = (xp.shape[1] - (kw - 1) * d[1] - 1) // s[1] + 1
    if k.ndim == 2:
        out = np.empty((oh, ow, *xp.shape[2:]), dtype=dtype)
        return _shifted([xp], k[..., None], out, s, d)
    bank = k if k.ndim == 4 else k[..., None]
    x3 = xp if xp.ndim == 3 else xp[..., None]
    filters = bank.shape[3]
    if filters == 1 or (filters <= 3 and channels <= 4):
        # Few filters: one shifted pass per filter beats gathering windows (measured).
        planes = [x3[..., c] for c in range(channels)]
        out = np.empty((filters, oh, ow), dtype=dtype)
        for f in range(filters):
            _shifted(planes, bank[..., f], out[f], s, d)
        out = np.ascontiguousarray(np.moveaxis(out, 0, -1))
    else:
        out = _im2col(x3, bank, (oh, ow), s, d)
    return out[..., 0] if k.ndim == 3 else out


def _window(
    xp: np.ndarray,
    r0: int,
    r1: int,
    i: int,
    j: int,
    ow: int,
    s: tuple[int, int],
    d: tuple[int, int],
) -> np.ndarray:
    """The input pixels that tap ``(i, j)`` meets for output rows ``r0:r1`` (a strided view)."""
    top = r0 * s[0] + i * d[0]
    left = j * d[1]
    return xp[top : top + (r1 - r0 - 1) * s[0] + 1 : s[0], left : left + (ow - 1) * s[1] + 1 : s[1]]


def _shifted(
    planes: list[np.ndarray],
    weights: np.ndarray,
    out: np.ndarray,
    s: tuple[int, int],
    d: tuple[int, int],
) -> np.ndarray:
    """Shifted multiply-add engine: ``out = Σ_{i,j,p} weights[i, j, p] · window_ij(planes[p])``.

    Works band by band over output rows so the accumulator and the temporary
    stay in cache; each step is one vectorised multiply and one add.

    Args:
        planes: Padded inputs, each ``(Hp, Wp)`` or ``(Hp, Wp, C)`` (then every
            channel is scaled alike: the per-channel, "depthwise" case).
        weights: ``(kh, kw, len(planes))``.
        out: Preallocated ``(oh, ow[, C])`` result, filled in place and returned.
    """
    oh, ow = out.shape[:2]
    rows = max(1, min(oh, _BAND_ELEMENTS // max(1, out[0].size)))
    tmp = np.empty((rows, *out.shape[1:]), dtype=out.dtype)
    taps = [
        (i, j, p)
        for i in range(weights.shape[0])
        for j in range(weights.shape[1])
        for p in range(len(planes))
    ]
    for r0 in range(0, oh, rows):
        r1 = min(r0 + rows, oh)
        acc, t = out[r0:r1], tmp[: r1 - r0]
        for n, (i, j, p) in enumerate(taps):
            np.multiply(
                _window(planes[p], r0, r1, i, j, ow, s, d),
                weights[i, j, p],
                out=acc if n == 0 else t,
            )
            if n:
                np.add(acc, t, out=acc)
    return out


def _im2col(
    xp: np.ndarray,
    bank: np.ndarray,
    out_hw: tuple[int, int],
    s: tuple[int, int],
    d: tuple[int, int],
) -> np.ndarray:
    """im2col engine: gather each band's windows into a matrix and multiply with the bank."""
    oh, ow = out_hw
    kh, kw, c, f = bank.shape
    span_h, span_w = (kh - 1) * d[0] + 1, (kw - 1) * d[1] + 1
    # (C, kh, kw, F) matches the (…, C, kh, kw) order sliding_window_view gives the windows.
    weights = bank.transpose(2, 0, 1, 3)
    out = np.empty((oh, ow, f), dtype=xp.dtype)
    rows = max(1, min(oh, _GEMM_ELEMENTS // max(1, ow * c * kh * kw)))
    for r0 in range(0, oh, rows):
        r1 = min(r0 + rows, oh)
        band = xp[r0 * s[0] : (r1 - 1) * s[0] + span_h]
        windows = sliding_window_view(band, (span_h, span_w), axis=(0, 1))
        windows = windows[:: s[0], :: s[1]][:, :ow, :, :: d[0], :: d[1]]
        out[r0:r1] = np.tensordot(windows, weights, axes=([2, 3, 4], [0, 1, 2]))
    return out
