"""The two vectorised engines behind ``correlate2d``; neither loops over pixels in Python.

* :func:`shifted`: one multiply and one add per (kernel tap, input plane) over
  a band of output rows. Each band's input rows are zero-padded into a small
  reusable buffer, so the accumulator, the temporary and the padded rows stay
  in cache and the full image is never copied. Best for a single kernel or a
  few filters.
* :func:`im2col`: each band's windows are gathered into a matrix and
  multiplied with the flattened filter bank by BLAS. Best for filter banks.
"""

from __future__ import annotations

import numpy as np

__all__ = ["im2col", "shifted"]

Pads = tuple[tuple[int, int], tuple[int, int]]

# Output elements per band: accumulator + temporary (+ padded rows) stay in L2.
_BAND_ELEMENTS = 1 << 16
# Elements of the window matrix per band in the im2col engine (1 MiB of float32): measured best.
_GEMM_ELEMENTS = 1 << 18


def _window(
    buf: np.ndarray, rows: int, i: int, j: int, ow: int, s: tuple[int, int], d: tuple[int, int]
) -> np.ndarray:
    """The band pixels that tap ``(i, j)`` meets for ``rows`` output rows (a strided view)."""
    top, left = i * d[0], j * d[1]
    return buf[top : top + (rows - 1) * s[0] + 1 : s[0], left : left + (ow - 1) * s[1] + 1 : s[1]]


def _fill_band(buf: np.ndarray, plane: np.ndarray, y0: int, left: int) -> None:
    """Copy the image rows ``y0 .. y0 + len(buf)`` (zeros outside the image) into ``buf``.

    The left/right padding columns of ``buf`` are zero from its creation and never written.
    """
    h, w = plane.shape[:2]
    need = buf.shape[0]
    first = min(max(-y0, 0), need)  # buffer rows above the image (top padding)
    last = min(max(h - y0, first), need)  # buffer rows from `last` on are below the image
    body = buf[:, left : left + w]
    body[:first] = 0
    body[last:] = 0
    body[first:last] = plane[y0 + first : y0 + last]


def shifted(
    planes: list[np.ndarray],
    pads: Pads,
    weights: np.ndarray,
    out: np.ndarray,
    s: tuple[int, int],
    d: tuple[int, int],
) -> np.ndarray:
    """``out = Σ_{i,j,p} weights[i, j, p] · window_ij(zero-padded planes[p])``.

    Args:
        planes: Unpadded inputs, each ``(H, W)`` or ``(H, W, C)`` (then every
            channel is scaled alike: the per-channel, "depthwise" case). Any
            numeric dtype; they are cast to ``out.dtype`` band by band.
        pads: ``((top, bottom), (left, right))`` zeros around every plane.
        weights: ``(kh, kw, len(planes))`` in ``out.dtype``.
        out: Preallocated ``(oh, ow[, C])`` result, filled in place and returned.
    """
    oh, ow = out.shape[:2]
    (top, _), (left, right) = pads
    kh, kw = weights.shape[:2]
    rows = max(1, min(oh, _BAND_ELEMENTS // max(1, out[0].size)))
    need = (rows - 1) * s[0] + (kh - 1) * d[0] + 1
    width = planes[0].shape[1] + left + right
    bufs = [np.zeros((need, width, *p.shape[2:]), dtype=out.dtype) for p in planes]
    tmp = np.empty((rows, *out.shape[1:]), dtype=out.dtype)
    taps = [(i, j, p) for i in range(kh) for j in range(kw) for p in range(len(planes))]
    for r0 in range(0, oh, rows):
        n_rows = min(rows, oh - r0)
        band_need = (n_rows - 1) * s[0] + (kh - 1) * d[0] + 1
        for buf, plane in zip(bufs, planes, strict=True):
            _fill_band(buf[:band_need], plane, r0 * s[0] - top, left)
        acc, t = out[r0 : r0 + n_rows], tmp[:n_rows]
        for n, (i, j, p) in enumerate(taps):
            src = _window(bufs[p], n_rows, i, j, ow, s, d)
            np.multiply(src, weights[i, j, p], out=acc if n == 0 else t)
            if n:
                np.add(acc, t, out=acc)
    return out


def im2col(
    xp: np.ndarray,
    bank: np.ndarray,
    out_hw: tuple[int, int],
    s: tuple[int, int],
    d: tuple[int, int],
) -> np.ndarray:
    """Gather each band's windows of the padded ``(Hp, Wp, C)`` input; multiply with the bank.

    The window matrix of a band is filled with one strided block copy per kernel
    tap (far faster than a generic gather), laid out ``(rows, ow, kh, kw, C)``
    so that it multiplies the Keras-layout bank ``(kh·kw·C, F)`` without a transpose.

    Args:
        xp: Padded input in the compute dtype.
        bank: ``(kh, kw, C, F)`` in the compute dtype.
        out_hw: ``(oh, ow)``.

    Returns:
        ``(oh, ow, F)``.
    """
    oh, ow = out_hw
    kh, kw, c, f = bank.shape
    weights = np.ascontiguousarray(bank).reshape(kh * kw * c, f)
    out = np.empty((oh, ow, f), dtype=xp.dtype)
    rows = max(1, min(oh, _GEMM_ELEMENTS // max(1, ow * c * kh * kw)))
    columns = np.empty((rows, ow, kh, kw, c), dtype=xp.dtype)
    for r0 in range(0, oh, rows):
        n = min(rows, oh - r0)
        block = columns[:n]
        for i in range(kh):
            for j in range(kw):
                block[:, :, i, j] = _window(xp[r0 * s[0] :], n, i, j, ow, s, d)
        np.matmul(block.reshape(n * ow, -1), weights, out=out[r0 : r0 + n].reshape(n * ow, f))
    return out
