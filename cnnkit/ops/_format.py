"""Text rendering of numbers and small matrices for the worked explanations."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["format_number", "render_matrix", "side_by_side"]

MINUS = "−"


def format_number(value: Any, parenthesize: bool = False) -> str:
    """Short, exact-looking text for one number: ``3``, ``−0.25``, ``0.3333``, ``nan``.

    Whole floats print without a decimal point; others keep 4 significant
    digits after the point. With ``parenthesize`` a negative number is wrapped
    in parentheses, as a factor in ``(−1)×64``.
    """
    v = value.item() if isinstance(value, np.generic) else value
    if isinstance(v, bool):
        text = str(int(v))
    elif isinstance(v, int):
        text = str(v)
    elif isinstance(v, complex):
        return (
            f"({format_number(v.real)}{'+' if v.imag >= 0 else MINUS}{format_number(abs(v.imag))}j)"
        )
    elif not np.isfinite(v):
        text = str(v)
    elif float(v).is_integer() and abs(v) < 1e15:
        text = str(int(v))
    else:
        text = np.format_float_positional(v, precision=4, unique=True, trim="-", fractional=False)
        if abs(v) < 1e-4 or abs(v) >= 1e15:
            text = np.format_float_scientific(v, precision=3, trim="-")
    negative = text.startswith("-")
    text = text.replace("-", MINUS)
    return f"({text})" if negative and parenthesize else text


def render_matrix(matrix: np.ndarray) -> list[str]:
    """The lines of a 2-D matrix with right-aligned columns."""
    cells = [[format_number(v) for v in row] for row in np.asarray(matrix)]
    width = max(len(c) for row in cells for c in row)
    return [" ".join(c.rjust(width) for c in row) for row in cells]


def side_by_side(blocks: list[tuple[str, list[str]]], separator: str = "   ") -> list[str]:
    """Lay titled blocks of lines next to each other, vertically centred, e.g. window ⊙ kernel.

    Args:
        blocks: ``(title, lines)`` pairs; a block whose title is empty is an
            operator column (``⊙``) placed on the middle line.
        separator: Space between blocks.
    """
    height = max(len(lines) for _, lines in blocks)
    columns = []
    for title, lines in blocks:
        width = max([len(title), *(len(line) for line in lines)])
        top = (height - len(lines)) // 2
        body = [""] * top + lines + [""] * (height - top - len(lines))
        columns.append([title.ljust(width)] + [line.ljust(width) for line in body])
    rows = [separator.join(col[r] for col in columns).rstrip() for r in range(height + 1)]
    return rows
