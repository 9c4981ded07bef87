"""Argument checks shared by the callbacks; each raises through the error template."""

from __future__ import annotations

import math
import numbers
from typing import Any

from cnnkit._errors import invalid_value

__all__ = [
    "check_count",
    "check_freq",
    "check_rate",
    "is_int_at_least",
    "is_real",
    "optional_number",
]


def is_real(value: Any) -> bool:
    """A real number (int, float, NumPy scalar), but not a bool."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def is_int_at_least(value: Any, low: int) -> bool:
    """An int (not a bool) that is >= ``low``."""
    return isinstance(value, int) and not isinstance(value, bool) and value >= low


def optional_number(value: Any) -> float | None:
    """``None`` stays None; anything else becomes a float (for get_state round-trips)."""
    return None if value is None else float(value)


def check_count(owner: str, name: str, value: Any) -> int:
    """``value`` as an int >= 0, or the template ValueError naming ``owner`` and ``name``."""
    if not is_int_at_least(value, 0):
        raise invalid_value(
            f"{owner}: `{name}` must be a whole number of epochs.",
            expected="an integer >= 0",
            received={name: value},
        )
    return value


def check_freq(owner: str, name: str, value: Any) -> str | int:
    """``"epoch"`` or a positive int number of batches, else the template ValueError."""
    if value != "epoch" and not is_int_at_least(value, 1):
        raise invalid_value(
            f"{owner}: unrecognised `{name}`.",
            expected="'epoch' or a positive integer number of batches",
            received={name: value},
        )
    return value


def check_rate(owner: str, name: str, value: Any) -> float:
    """``value`` as a float >= 0, or the template error naming ``owner`` and ``name``."""
    if not is_real(value) or not math.isfinite(value) or value < 0:
        raise invalid_value(
            f"{owner}: `{name}` must be a learning rate.",
            expected="a finite number >= 0",
            received={name: value},
        )
    return float(value)
