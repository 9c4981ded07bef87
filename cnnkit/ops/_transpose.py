"""The transposed convolution (Keras ``Conv2DTranspose``) in NumPy, and its worked sums.

Every input pixel ``x[i, j]`` *scatters* a copy of the kernel, scaled by itself,
onto the output at ``(i·s, j·s)``; where copies overlap they add up. The full
result is ``(n − 1)·s + k`` per axis. Keras then keeps a window of it:

* ``"valid"``: ``n·s + max(k − s, 0)`` values from the start (zeros past the
  full result when the stride is larger than the kernel);
* ``"same"``: ``n·s`` values from ``⌊max(k − s, 0) / 2⌋``, the exact gradient
  of a TensorFlow-"same" ``Conv2D``.

The kernel is not flipped: this is the adjoint of :func:`correlate2d`, the
operation ``torch.nn.functional.conv_transpose2d`` runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from cnnkit._errors import invalid_value
from cnnkit.ops._checks import as_image, check_choice, non_negative_int, pair
from cnnkit.ops._correlate import as_kernel, compute_dtype
from cnnkit.ops._format import format_number, render_matrix

__all__ = [
    "TRANSPOSE_PADDINGS",
    "TransposeExplanation",
    "conv_transpose2d",
    "conv_transpose_output_size",
    "conv_transpose_output_size_formula",
    "explain_transpose",
    "render_transpose",
]

TRANSPOSE_PADDINGS = ("valid", "same")


def _window(n: int, k: int, s: int, padding: str) -> tuple[int, int]:
    """``(start, length)`` of the kept part of the full ``(n − 1)·s + k`` result."""
    if padding == "same":
        return max(k - s, 0) // 2, n * s
    return 0, n * s + max(k - s, 0)


def conv_transpose_output_size(n: int, kernel_size: int, strides: int = 1,
                               padding: str = "valid") -> int:  # fmt: skip
    """Output length of a transposed convolution along one axis (Keras' sizes).

    ``n·s`` for ``"same"``; ``n·s + max(k − s, 0)`` for ``"valid"``.
    """
    where = "conv_transpose_output_size"
    padding = check_choice(padding, TRANSPOSE_PADDINGS, "padding", "transposed-conv padding")
    n = non_negative_int(n, "n", where)
    k, s = pair(kernel_size, "kernel_size", where)[0], pair(strides, "strides", where)[0]
    return _window(n, k, s, padding)[1]


def conv_transpose_output_size_formula(n: int, kernel_size: int, strides: int = 1,
                                       padding: str = "valid") -> str:  # fmt: skip
    """The derivation of :func:`conv_transpose_output_size` as text.

    Examples:
        ``(3, 3, 2, "valid")`` -> ``"3 × 2 + max(3 − 2, 0) = 7"``  (full: ``(3 − 1)·2 + 3``);
        ``(3, 3, 2, "same")`` -> ``"3 × 2 = 6"``.
    """
    out = conv_transpose_output_size(n, kernel_size, strides, padding)
    if padding == "same":
        return f"{n} × {strides} = {out}"
    return f"{n} × {strides} + max({kernel_size} − {strides}, 0) = {out}"


def _prepare(x: Any, kernel: Any, strides: Any, padding: Any, where: str) -> tuple:
    image = as_image(x, "x", where)
    k = as_kernel(kernel, where)
    if k.ndim != image.ndim or (k.ndim == 3 and k.shape[2] != image.shape[2]):
        raise invalid_value(
            f"{where}: the kernel does not match the image's channels.",
            expected="a (kh, kw) kernel for an (H, W) image, or (kh, kw, C) for (H, W, C)",
            received={"x.shape": image.shape, "kernel.shape": k.shape},
        )
    s = pair(strides, "strides", where)
    padding = check_choice(padding, TRANSPOSE_PADDINGS, "padding", "transposed-conv padding")
    dtype = compute_dtype(image, k)
    return image.astype(dtype, copy=False), k.astype(dtype, copy=True), s, padding


def conv_transpose2d(x: Any, kernel: Any, strides: Any = 1, padding: str = "valid") -> np.ndarray:
    """Transposed 2-D convolution of one image with one kernel, Keras' output size.

    Args:
        x: ``(H, W)`` image, or ``(H, W, C)`` with a ``(kh, kw, C)`` kernel
            (the channels' scatters are summed: one output map).
        kernel: ``(kh, kw)`` or ``(kh, kw, C)``; not flipped.
        strides: ``s`` or ``(sh, sw)``; default 1.
        padding: ``"valid"`` (default) or ``"same"``.

    Returns:
        ``(H', W')`` with ``H' = H·s`` ("same") or ``H·s + max(kh − s, 0)`` ("valid").
    """
    image, k, s, padding = _prepare(x, kernel, strides, padding, "conv_transpose2d")
    (h, w), (kh, kw) = image.shape[:2], k.shape[:2]
    full = np.zeros(((h - 1) * s[0] + kh, (w - 1) * s[1] + kw), dtype=k.dtype)
    # One scatter per kernel tap (kh·kw strided adds), not one per input pixel.
    for a in range(kh):
        for b in range(kw):
            tap = image * k[a, b] if image.ndim == 2 else image @ k[a, b]
            full[a : a + (h - 1) * s[0] + 1 : s[0], b : b + (w - 1) * s[1] + 1 : s[1]] += tap
    (top, oh), (left, ow) = _window(h, kh, s[0], padding), _window(w, kw, s[1], padding)
    out = np.zeros((oh, ow), dtype=k.dtype)
    kept = full[top : top + oh, left : left + ow]
    out[: kept.shape[0], : kept.shape[1]] = kept
    return out


@dataclass(frozen=True)
class TransposeExplanation:
    """How one output pixel of :func:`conv_transpose2d` collects its scattered products.

    Attributes:
        at: ``(row, col)`` of the output pixel.
        terms: ``((i, j), (a, b), x[i, j], kernel[a, b])`` for every input pixel
            whose kernel copy lands here (``(i·s + a, j·s + b)`` in the full result);
            for a ``(H, W, C)`` image the values are channel vectors.
        value: The output value, the sum of the products.
        offset: ``(row, col)`` of the kept window in the full result.
        strides: ``(sh, sw)``.
    """

    at: tuple[int, int]
    terms: list[tuple[tuple[int, int], tuple[int, int], Any, Any]]
    value: Any
    offset: tuple[int, int]
    strides: tuple[int, int] = (1, 1)

    def sum_text(self) -> str:
        """``x[i,j]×k[a,b] + … = value`` (``0`` when no copy lands on the pixel)."""
        parts = []
        for (i, j), (a, b), xv, kv in self.terms:
            for x_c, k_c in zip(np.ravel(xv), np.ravel(kv), strict=True):
                parts.append(
                    f"x[{i},{j}]×k[{a},{b}] = {format_number(x_c, True)}×{format_number(k_c, True)}"
                )
        products = " + ".join(p.split(" = ")[1] for p in parts) or "0"
        return f"{products} = {format_number(self.value)}"

    def __str__(self) -> str:
        r, c = self.at
        full_r, full_c = r + self.offset[0], c + self.offset[1]
        lines = [f"out[{r}, {c}] is full[{full_r}, {full_c}]: input pixels whose kernel lands here"]
        sh, sw = self.strides
        lines += [f"  x[{i},{j}] × k[{a},{b}]   ({i}·{sh} + {a}, {j}·{sw} + {b})"
                  for (i, j), (a, b), _, _ in self.terms]  # fmt: skip
        if not self.terms:
            lines.append("  none (a gap between strided copies): 0")
        return "\n".join([*lines, "", self.sum_text()])


def explain_transpose(x: Any, kernel: Any, at: tuple[int, int] = (0, 0), strides: Any = 1,
                      padding: str = "valid") -> TransposeExplanation:  # fmt: skip
    """Explain one output pixel of ``conv_transpose2d(x, kernel, strides, padding)``.

    Example:
        >>> print(explain_transpose([[1, 2], [3, 4]], [[1, 1], [1, 1]], at=(1, 1)).sum_text())
        1×1 + 2×1 + 3×1 + 4×1 = 10
    """
    image, k, s, padding = _prepare(x, kernel, strides, padding, "explain_transpose")
    (h, w), (kh, kw) = image.shape[:2], k.shape[:2]
    (top, oh), (left, ow) = _window(h, kh, s[0], padding), _window(w, kw, s[1], padding)
    row, col = (non_negative_int(v, "at", "explain_transpose")
                for v in pair(at, "at", "explain_transpose", positive=False))  # fmt: skip
    if row >= oh or col >= ow:
        raise invalid_value(
            "explain_transpose: `at` is outside the output.",
            expected=f"0 <= row < {oh} and 0 <= col < {ow} (the output is {oh}×{ow})",
            received={"at": at},
        )
    fr, fc = row + top, col + left
    terms = [((i, j), (fr - i * s[0], fc - j * s[1]), image[i, j], k[fr - i * s[0], fc - j * s[1]])
             for i in range(h) if 0 <= fr - i * s[0] < kh
             for j in range(w) if 0 <= fc - j * s[1] < kw]  # fmt: skip
    value = sum((np.sum(xv * kv) for _, _, xv, kv in terms), k.dtype.type(0))
    return TransposeExplanation(
        at=(row, col), terms=terms, value=value, offset=(top, left), strides=s
    )


def render_transpose(x: Any, kernel: Any, strides: Any = 1, padding: str = "valid") -> str:
    """The output matrix of a small transposed convolution, with its two size formulas."""
    out = conv_transpose2d(x, kernel, strides, padding)
    image, k = as_image(x, "x", "render_transpose"), as_kernel(kernel, "render_transpose")
    s = pair(strides, "strides", "render_transpose")
    rows = conv_transpose_output_size_formula(image.shape[0], k.shape[0], s[0], padding)
    cols = conv_transpose_output_size_formula(image.shape[1], k.shape[1], s[1], padding)
    return "\n".join([f"output rows: {rows}", f"output cols: {cols}", "", *render_matrix(out)])
