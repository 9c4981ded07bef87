"""The worked sum behind one output pixel of a convolution, and a trace of a whole small one."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from cnnkit._errors import invalid_value
from cnnkit.ops._checks import as_image, non_negative_int, pair
from cnnkit.ops._correlate import as_kernel, compute_dtype, conv_pads, pad_for_conv
from cnnkit.ops._format import format_number, render_matrix, side_by_side
from cnnkit.ops._shapes import conv_output_size_formula

__all__ = ["Explanation", "Trace", "explain", "explain_all"]

# explain_all writes one line per output pixel; beyond this it stops being "small".
MAX_TRACE_POSITIONS = 100


@dataclass(frozen=True)
class Explanation:
    """How ``correlate2d`` computes the output at ``at``: ``Σ kernel ⊙ window``.

    Attributes:
        at: ``(row, col)`` of the output pixel.
        window: The ``(kh, kw)`` or ``(kh, kw, C)`` input pixels the kernel meets
            (padding zeros included).
        kernel: The kernel, same shape as ``window``.
        value: The output value, ``Σ kernel · window``.
        origin: ``(row, col)`` of the window's top-left pixel in the *unpadded*
            input (negative inside the top/left padding).
        padded: How many window pixels are padding zeros.
        dilation: Spacing of the window's rows and columns in the input.
    """

    at: tuple[int, int]
    window: np.ndarray
    kernel: np.ndarray
    value: Any
    origin: tuple[int, int]
    padded: int
    dilation: tuple[int, int] = (1, 1)

    @property
    def products(self) -> np.ndarray:
        """The element-wise products ``kernel · window`` that are summed."""
        return self.kernel * self.window

    def sum_text(self) -> str:
        """``k×x + k×x + … = value`` with every product written out."""
        # Channel by channel for (kh, kw, C): all of channel 0's products first.
        kernel, window = (
            np.moveaxis(a, -1, 0) if a.ndim == 3 else a for a in (self.kernel, self.window)
        )
        terms = [
            f"{format_number(k, True)}×{format_number(x, True)}"
            for k, x in zip(kernel.ravel(), window.ravel(), strict=True)
        ]
        return " + ".join(terms) + f" = {format_number(self.value)}"

    def __str__(self) -> str:
        spans = [
            f"{name} {start}..{start + (size - 1) * step}" + (f" step {step}" if step > 1 else "")
            for name, start, size, step in zip(
                ("rows", "cols"), self.origin, self.kernel.shape[:2], self.dilation, strict=True
            )
        ]
        lines = [
            f"out[{self.at[0]}, {self.at[1]}]: window at input {spans[0]}, {spans[1]}"
            + (f" ({self.padded} padding zeros)" if self.padded else ""),
        ]
        channels = [None] if self.window.ndim == 2 else range(self.window.shape[2])
        for ch in channels:
            win = self.window if ch is None else self.window[..., ch]
            ker = self.kernel if ch is None else self.kernel[..., ch]
            lines.append("")
            title = "" if ch is None else f" (channel {ch})"
            lines += side_by_side(
                [
                    (f"window{title}", render_matrix(win)),
                    ("", ["⊙"]),
                    ("kernel", render_matrix(ker)),
                ]
            )
        lines += ["", self.sum_text()]
        return "\n".join(lines)


@dataclass(frozen=True)
class Trace:
    """Every output pixel of a small correlation, worked out, and the resulting matrix."""

    steps: list[Explanation]
    output: np.ndarray
    shape_formulas: tuple[str, str]

    def __str__(self) -> str:
        oh, ow = self.output.shape[:2]
        lines = [
            f"output rows: {self.shape_formulas[0]}",
            f"output cols: {self.shape_formulas[1]}",
            "",
        ]
        lines += [f"out[{s.at[0]}, {s.at[1]}] = {s.sum_text()}" for s in self.steps]
        lines += ["", f"output ({oh}×{ow}):", *render_matrix(self.output)]
        return "\n".join(lines)


def explain(
    x: Any,
    kernel: Any,
    at: tuple[int, int] = (0, 0),
    strides: int | tuple[int, int] = 1,
    padding: Any = "valid",
    dilation: int | tuple[int, int] = 1,
) -> Explanation:
    """Explain one output pixel of ``correlate2d(x, kernel, strides, padding, dilation)``.

    Args:
        x: ``(H, W)`` image, or ``(H, W, C)`` with a ``(kh, kw, C)`` kernel
            (the sum then runs over channels too).
        kernel: ``(kh, kw)`` or ``(kh, kw, C)``.
        at: ``(row, col)`` of the output pixel; default ``(0, 0)``.
        strides, padding, dilation: As for :func:`cnnkit.ops.correlate2d`.

    Returns:
        An :class:`Explanation`; ``print`` it to see window, kernel and the sum.

    Example:
        >>> print(explain([[3, 0, 1], [1, 5, 8], [2, 7, 2]], kernel("sobel_x")).sum_text())
        (−1)×3 + 0×0 + 1×1 + (−2)×1 + 0×5 + 2×8 + (−1)×2 + 0×7 + 1×2 = 12
    """
    image, k, xp, pads, s, d = _prepare(x, kernel, strides, padding, dilation, "explain")
    oh = (xp.shape[0] - (k.shape[0] - 1) * d[0] - 1) // s[0] + 1
    ow = (xp.shape[1] - (k.shape[1] - 1) * d[1] - 1) // s[1] + 1
    row, col = _check_at(at, (oh, ow))
    return _explain_at(image, k, xp, pads, s, d, row, col)


def explain_all(
    x: Any,
    kernel: Any,
    strides: int | tuple[int, int] = 1,
    padding: Any = "valid",
    dilation: int | tuple[int, int] = 1,
) -> Trace:
    """Work out every output pixel of a small correlation (at most 100 of them).

    Arguments as for :func:`explain`. ``str()`` of the result shows the two
    output-size formulas, one worked sum per pixel, and the output matrix.
    """
    image, k, xp, pads, s, d = _prepare(x, kernel, strides, padding, dilation, "explain_all")
    oh = (xp.shape[0] - (k.shape[0] - 1) * d[0] - 1) // s[0] + 1
    ow = (xp.shape[1] - (k.shape[1] - 1) * d[1] - 1) // s[1] + 1
    if oh * ow > MAX_TRACE_POSITIONS:
        raise invalid_value(
            "explain_all: the output is too large to trace pixel by pixel.",
            expected=f"at most {MAX_TRACE_POSITIONS} output positions; "
            "use explain(..., at=(row, col)) for one pixel of a large output",
            received={"output_shape": (oh, ow)},
        )
    steps = [_explain_at(image, k, xp, pads, s, d, r, c) for r in range(oh) for c in range(ow)]
    output = np.array([step.value for step in steps]).reshape(oh, ow)
    formulas = tuple(
        conv_output_size_formula(
            image.shape[a], k.shape[a], s[a], padding if padding == "same" else pads[a], d[a]
        )
        + (f"  (same: {pads[a][0]} before, {pads[a][1]} after)" if padding == "same" else "")
        for a in (0, 1)
    )
    return Trace(steps=steps, output=output, shape_formulas=formulas)


def _prepare(x: Any, kernel: Any, strides: Any, padding: Any, dilation: Any, where: str) -> tuple:
    image = as_image(x, "x", where)
    k = as_kernel(kernel, where)
    expected_ndim = image.ndim
    if k.ndim != expected_ndim or (k.ndim == 3 and k.shape[2] != image.shape[2]):
        raise invalid_value(
            f"{where}: the kernel does not match the image's channels.",
            expected="a (kh, kw) kernel for an (H, W) image, or (kh, kw, C) for (H, W, C); "
            "pass one channel (x[..., c]) or one filter (kernel[..., f]) otherwise",
            received={"x.shape": image.shape, "kernel.shape": k.shape},
        )
    s = pair(strides, "strides", where)
    d = pair(dilation, "dilation", where)
    dtype = compute_dtype(image, k)
    pads = conv_pads(image.shape[:2], k.shape[:2], s, padding, d, where)
    xp = pad_for_conv(image, k.shape[:2], s, pads, d, dtype, where)
    # A private copy: explanations must not change if the caller edits the kernel later.
    return image, k.astype(dtype, copy=True), xp, pads, s, d


def _check_at(at: Any, out_hw: tuple[int, int]) -> tuple[int, int]:
    row, col = (
        non_negative_int(v, "at", "explain") for v in pair(at, "at", "explain", positive=False)
    )
    if row >= out_hw[0] or col >= out_hw[1]:
        raise invalid_value(
            "explain: `at` is outside the output.",
            expected=f"0 <= row < {out_hw[0]} and 0 <= col < {out_hw[1]} "
            f"(the output is {out_hw[0]}×{out_hw[1]})",
            received={"at": at},
        )
    return row, col


def _explain_at(image, k, xp, pads, s, d, row, col) -> Explanation:
    top, left = row * s[0], col * s[1]
    kh, kw = k.shape[:2]
    window = xp[top : top + (kh - 1) * d[0] + 1 : d[0], left : left + (kw - 1) * d[1] + 1 : d[1]]
    rows = top + d[0] * np.arange(kh) - pads[0][0]
    cols = left + d[1] * np.arange(kw) - pads[1][0]
    inside = np.outer((rows >= 0) & (rows < image.shape[0]), (cols >= 0) & (cols < image.shape[1]))
    value = np.sum(k * window)
    return Explanation(
        at=(row, col),
        window=window.copy(),
        kernel=k,
        value=value,
        origin=(int(rows[0]), int(cols[0])),
        padded=int(inside.size - inside.sum()),
        dilation=d,
    )
