"""Padding an image: ``pad`` and the parsing of per-side widths."""

from __future__ import annotations

from typing import Any

import numpy as np

from cnnkit._errors import invalid_value
from cnnkit.ops._checks import as_image, check_choice, non_negative_int, pair

__all__ = ["PAD_MODES", "pad", "parse_width"]

PAD_MODES = ("constant", "reflect", "symmetric", "edge")

Width = tuple[tuple[int, int], tuple[int, int]]


def parse_width(width: Any, argument: str, where: str) -> Width:
    """Normalise a padding width to ``((top, bottom), (left, right))``.

    Accepts an int (all four sides), ``(top/bottom, left/right)``, or
    ``((top, bottom), (left, right))``. Every amount must be an integer >= 0.
    """
    if not isinstance(width, tuple | list):
        w = non_negative_int(width, argument, where)
        return (w, w), (w, w)
    if len(width) == 2:
        rows, cols = width
        nested = [isinstance(v, tuple | list) for v in (rows, cols)]
        if all(nested):
            return (
                pair(rows, argument, where, positive=False),
                pair(cols, argument, where, positive=False),
            )
        if not any(nested):
            r, c = pair(width, argument, where, positive=False)
            return (r, r), (c, c)
    raise invalid_value(
        f"{where}: `{argument}` has the wrong structure.",
        expected="an int, (top/bottom, left/right), or ((top, bottom), (left, right))",
        received={argument: width},
    )


def pad(x: Any, width: Any, mode: str = "constant", value: float = 0) -> np.ndarray:
    """Pad the two spatial axes of an image; the channel axis is never padded.

    Args:
        x: ``(H, W)`` or ``(H, W, C)`` array of numbers.
        width: An int for all sides, ``(top/bottom, left/right)``, or
            ``((top, bottom), (left, right))``.
        mode: ``"constant"`` (default, fills with ``value``), ``"reflect"``
            (mirror without repeating the edge: ``3 2 | 1 2 3``), ``"symmetric"``
            (mirror repeating the edge: ``2 1 | 1 2 3``) or ``"edge"`` (repeat
            the border pixel).
        value: Fill value for ``"constant"``; default 0.

    Returns:
        A new array of shape ``(H + top + bottom, W + left + right[, C])`` and
        the dtype of ``x``; ``x`` itself is never modified.

    Example:
        >>> pad(np.ones((2, 2), int), 1)
        array([[0, 0, 0, 0],
               [0, 1, 1, 0],
               [0, 1, 1, 0],
               [0, 0, 0, 0]])
    """
    image = as_image(x, "x", "pad")
    check_choice(mode, PAD_MODES, "mode", "pad mode")
    (top, bottom), (left, right) = parse_width(width, "width", "pad")
    widths = [(top, bottom), (left, right)] + [(0, 0)] * (image.ndim - 2)
    if mode == "reflect" and (
        max(top, bottom) >= image.shape[0] or max(left, right) >= image.shape[1]
    ):
        # NumPy would silently reflect several times; one reflection is what the mode means.
        raise invalid_value(
            "pad: `width` is too wide for mode 'reflect'.",
            expected="each width smaller than the axis it pads "
            f"(H={image.shape[0]}, W={image.shape[1]})",
            received={"width": width},
        )
    if mode == "constant":
        return np.pad(image, widths, mode="constant", constant_values=value)
    return np.pad(image, widths, mode=mode)
