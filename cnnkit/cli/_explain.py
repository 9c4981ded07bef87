"""``cnnkit explain``: print the worked sums of a small cross-correlation."""

from __future__ import annotations

import argparse

from cnnkit._errors import invalid_value, unknown_name
from cnnkit.ops import PADDING_NAMES, explain, explain_all, parse_kernel, parse_matrix

__all__ = ["add_arguments", "run"]

# The CNN course's 6×6 example, so that a bare `cnnkit explain` shows something worth reading.
DEFAULT_IMAGE = "3 0 1 2 7 4; 1 5 8 9 3 1; 2 7 2 5 1 3; 0 1 3 1 7 8; 4 2 1 6 2 8; 2 4 5 2 3 9"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``cnnkit explain``."""
    parser.add_argument(
        "--image",
        default=DEFAULT_IMAGE,
        help='the input matrix, rows separated by ";" (default: the course\'s 6×6 example)',
    )
    parser.add_argument(
        "--kernel",
        default="edge_vertical",
        help='a kernel name or a matrix such as "1 0 -1; 1 0 -1; 1 0 -1" (default: edge_vertical)',
    )
    parser.add_argument(
        "--at", help='one output position "ROW,COL" to explain in full; default: every position'
    )
    parser.add_argument("--strides", default="1", help='"S" or "ROWS,COLS" (default: 1)')
    parser.add_argument(
        "--padding",
        default="valid",
        help='valid, same, full, "P", "ROWS,COLS" or "TOP,BOTTOM,LEFT,RIGHT" (default: valid)',
    )
    parser.add_argument("--dilation", default="1", help='"D" or "ROWS,COLS" (default: 1)')


def run(args: argparse.Namespace) -> int:
    """Print one explanation (``--at``) or the trace of the whole output."""
    image = parse_matrix(args.image, "--image")
    weights = parse_kernel(args.kernel, "--kernel")
    options = {
        "strides": _ints(args.strides, "--strides", (1, 2)),
        "padding": _padding(args.padding),
        "dilation": _ints(args.dilation, "--dilation", (1, 2)),
    }
    if args.at is None:
        print(explain_all(image, weights, **options))
    else:
        print(explain(image, weights, at=_ints(args.at, "--at", (2,)), **options))
    return 0


def _ints(text: str, option: str, counts: tuple[int, ...]) -> int | tuple[int, ...]:
    """``"2"`` -> 2, ``"2,1"`` -> (2, 1); ``counts`` lists the allowed numbers of values."""
    parts = [p.strip() for p in text.split(",")]
    try:
        values = tuple(int(p) for p in parts)
    except ValueError:
        values = ()
    if len(values) not in counts:
        shapes = " or ".join({1: '"N"', 2: '"A,B"', 4: '"A,B,C,D"'}[c] for c in counts)
        raise invalid_value(
            f"{option} must be integers written as {shapes}.",
            received={option: text},
        )
    return values[0] if len(values) == 1 else values


def _padding(text: str):
    if text in PADDING_NAMES:
        return text
    if text.isalpha():
        raise unknown_name("padding", text, PADDING_NAMES, argument="--padding")
    values = _ints(text, "--padding", (1, 2, 4))
    if isinstance(values, tuple) and len(values) == 4:
        return (values[0], values[1]), (values[2], values[3])
    return values
