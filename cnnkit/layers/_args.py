"""Checking and normalising the Keras constructor arguments layers share.

Every function raises through the error template, naming the layer and the
argument, so ``Conv2D(filters=0)`` says exactly what is wrong.
"""

from __future__ import annotations

from typing import Any

from cnnkit._config import image_data_format
from cnnkit._errors import invalid_type, invalid_value, unknown_name

__all__ = [
    "Padding",
    "normalize_data_format",
    "normalize_padding",
    "normalize_tuple",
    "positive_int",
]

#: Either a Keras name or explicit ``(before, after)`` pairs, one per spatial axis.
Padding = str | tuple[tuple[int, int], ...]

_DATA_FORMATS = ("channels_last", "channels_first")


def positive_int(value: Any, argument: str, layer: str) -> int:
    """``value`` as an int >= 1, else a ValueError naming ``layer`` and ``argument``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise invalid_type(
            f"{layer}: `{argument}` must be a positive integer.", received={argument: value}
        )
    if value < 1:
        raise invalid_value(
            f"{layer}: `{argument}` must be a positive integer.",
            expected="an integer >= 1",
            received={argument: value},
        )
    return value


def normalize_tuple(value: Any, n: int, argument: str, layer: str) -> tuple[int, ...]:
    """An int or a length-``n`` sequence of ints >= 1, as a tuple of ``n`` ints."""
    items = [value] * n if isinstance(value, int) and not isinstance(value, bool) else value
    if not isinstance(items, (list, tuple)) or len(items) != n:
        raise invalid_value(
            f"{layer}: `{argument}` must be an integer or a tuple of {n} integers.",
            received={argument: value},
        )
    for v in items:
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise invalid_value(
                f"{layer}: every entry of `{argument}` must be a positive integer.",
                expected="integers >= 1",
                received={argument: value},
            )
    return tuple(items)


def normalize_data_format(value: Any, layer: str) -> str:
    """``"channels_last"`` or ``"channels_first"``; None means ``image_data_format()``."""
    if value is None:
        return image_data_format()
    if isinstance(value, str) and value.lower() in _DATA_FORMATS:
        return value.lower()
    raise unknown_name(f"data_format for {layer}", value, _DATA_FORMATS, argument="data_format")


def normalize_padding(
    value: Any, n: int, layer: str, names: tuple[str, ...] = ("valid", "same")
) -> Padding:
    """Keras padding names, or explicit amounts (beyond Keras, for torchvision parity).

    Accepted: ``"valid"``, ``"same"`` (and the other ``names``), an int ``p``
    (``p`` on every side), ``n`` ints (symmetric per axis) or ``n`` pairs
    ``(before, after)``.

    Returns:
        The lower-case name, or a tuple of ``n`` ``(before, after)`` pairs.
    """
    if isinstance(value, str):
        if value.lower() in names:
            return value.lower()
        raise unknown_name(f"padding for {layer}", value, names, argument="padding")
    if isinstance(value, int) and not isinstance(value, bool):
        value = (value,) * n
    pairs: list[tuple[int, int]] = []
    if isinstance(value, (list, tuple)) and len(value) == n:
        for item in value:
            pair = (item, item) if isinstance(item, int) else item
            if (
                not isinstance(pair, (list, tuple))
                or len(pair) != 2
                or any(isinstance(p, bool) or not isinstance(p, int) or p < 0 for p in pair)
            ):
                break
            pairs.append((int(pair[0]), int(pair[1])))
    if len(pairs) != n:
        named = "".join(f"{s!r}, " for s in names)
        raise invalid_value(
            f"{layer}: `padding` must be {named}a non-negative int, {n} ints, or {n} "
            "(before, after) pairs.",
            received={"padding": value},
        )
    return tuple(pairs)
