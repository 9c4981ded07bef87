"""Reading a small matrix written as text, e.g. ``"3 0 1; 1 5 8; 2 7 2"``."""

from __future__ import annotations

import re

import numpy as np

from cnnkit._errors import invalid_type, invalid_value
from cnnkit.ops._kernels import KERNELS, kernel

__all__ = ["parse_kernel", "parse_matrix"]


def parse_matrix(text: str, argument: str = "matrix") -> np.ndarray:
    """Parse rows separated by ``;`` or newlines, entries by spaces or commas.

    Whole numbers give an int64 array, anything else float64. The typographic
    minus ``−`` is accepted, so printed explanations can be pasted back.

    Args:
        text: e.g. ``"3 0 1; 1 5 8; 2 7 2"`` or ``"0.5, -1\\n2, 1e-3"``.
        argument: The name used in error messages (e.g. ``"--image"``).

    Returns:
        A 2-D array.

    Raises:
        ValueError: For an empty matrix, ragged rows or an entry that is not a number.
    """
    if not isinstance(text, str):
        raise invalid_type(
            f"parse_matrix: `{argument}` must be text.",
            expected='a string such as "3 0 1; 1 5 8; 2 7 2"',
            received={argument: text},
        )
    rows = [r for r in re.split(r"[;\n]", text.replace("−", "-")) if r.strip()]
    cells = [[c for c in re.split(r"[,\s]+", row.strip()) if c] for row in rows]
    if not cells:
        raise invalid_value(
            f"parse_matrix: `{argument}` is empty.",
            expected='rows separated by ";", e.g. "3 0 1; 1 5 8; 2 7 2"',
            received={argument: text},
        )
    widths = {len(row) for row in cells}
    if len(widths) != 1:
        raise invalid_value(
            f"parse_matrix: the rows of `{argument}` have different lengths.",
            expected="the same number of entries in every row",
            received={argument: text, "row lengths": [len(row) for row in cells]},
        )
    try:
        values = [[float(c) for c in row] for row in cells]
    except ValueError:
        bad = next(c for row in cells for c in row if not _is_number(c))
        raise invalid_value(
            f"parse_matrix: `{argument}` has an entry that is not a number: {bad!r}.",
            expected="numbers such as 3, -1, 0.25 or 1e-3",
            received={argument: text},
        ) from None
    array = np.array(values, dtype=np.float64)
    if (
        np.all(np.isfinite(array))
        and np.all(array == np.round(array))
        and np.abs(array).max() < 2**53
    ):
        return array.astype(np.int64)
    return array


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def parse_kernel(text: str, argument: str = "kernel") -> np.ndarray:
    """A kernel given as text: a name from ``KERNELS`` or a matrix such as ``"1 0 -1; 2 0 -2"``.

    Text without digits is taken as a name, so a misspelt name gets the
    unknown-name error with close matches rather than a parse error.
    """
    if isinstance(text, str) and (text in KERNELS or not any(ch.isdigit() for ch in text)):
        return kernel(text)
    return parse_matrix(text, argument)
