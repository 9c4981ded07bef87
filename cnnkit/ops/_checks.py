"""Argument checks shared by the ``cnnkit.ops`` functions.

Every check raises through :mod:`cnnkit._errors` so the messages follow the
project's one template and name the function and argument at fault.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from typing import Any

import numpy as np

from cnnkit._errors import invalid_type, invalid_value, unknown_name

__all__ = ["as_image", "check_choice", "non_negative_int", "pair", "positive_int"]


def positive_int(value: Any, argument: str, where: str) -> int:
    """Return ``value`` as a Python int, or raise if it is not an integer >= 1."""
    number = _as_int(value, argument, where)
    if number < 1:
        raise invalid_value(
            f"{where}: `{argument}` must be a positive integer.",
            expected="an integer >= 1",
            received={argument: value},
        )
    return number


def non_negative_int(value: Any, argument: str, where: str) -> int:
    """Return ``value`` as a Python int, or raise if it is not an integer >= 0."""
    number = _as_int(value, argument, where)
    if number < 0:
        raise invalid_value(
            f"{where}: `{argument}` must not be negative.",
            expected="an integer >= 0",
            received={argument: value},
        )
    return number


def _as_int(value: Any, argument: str, where: str) -> int:
    # bool is an int subclass but `strides=True` is always a mistake.
    if isinstance(value, bool | np.bool_):
        raise invalid_type(
            f"{where}: `{argument}` must be an integer.",
            expected="an int",
            received={argument: value},
        )
    try:
        return operator.index(value)
    except TypeError:
        raise invalid_type(
            f"{where}: `{argument}` must be an integer.",
            expected="an int",
            received={argument: value},
        ) from None


def pair(value: Any, argument: str, where: str, *, positive: bool = True) -> tuple[int, int]:
    """Expand an int or a 2-sequence of ints into ``(rows, cols)``."""
    check = positive_int if positive else non_negative_int
    if isinstance(value, Sequence) and not isinstance(value, str):
        if len(value) != 2:
            raise invalid_value(
                f"{where}: `{argument}` must be an int or a pair (rows, cols).",
                expected="an int or a sequence of two ints",
                received={argument: value},
            )
        return check(value[0], argument, where), check(value[1], argument, where)
    number = check(value, argument, where)
    return number, number


def check_choice(value: Any, choices: Sequence[str], argument: str, kind: str) -> str:
    """Return ``value`` if it is one of ``choices``; otherwise list them with suggestions."""
    if not isinstance(value, str) or value not in choices:
        raise unknown_name(kind, value, choices, argument=argument)
    return value


def as_image(x: Any, argument: str, where: str) -> np.ndarray:
    """Return ``x`` as a numeric ``(H, W)`` or ``(H, W, C)`` array (no copy when possible).

    Integer and boolean images are kept as they are here; callers decide the
    compute dtype. Object, string and other non-numeric arrays are refused.
    """
    array = np.asarray(x)
    if not (np.issubdtype(array.dtype, np.number) or array.dtype == np.bool_):
        raise invalid_type(
            f"{where}: `{argument}` must hold numbers.",
            expected="an integer, float or complex array",
            received={f"{argument}.dtype": str(array.dtype)},
        )
    if array.ndim not in (2, 3):
        raise invalid_value(
            f"{where}: `{argument}` must be a 2-D (H, W) or 3-D (H, W, C) image.",
            expected="ndim 2 or 3; pass one image, not a batch",
            received={f"{argument}.shape": array.shape},
        )
    if array.shape[0] == 0 or array.shape[1] == 0:
        raise invalid_value(
            f"{where}: `{argument}` is empty.",
            expected="at least one row and one column",
            received={f"{argument}.shape": array.shape},
        )
    return array
