"""A restricted unpickler for the CIFAR python tarballs.

The CIFAR-10/100 "python version" files are pickles, and unpickling runs
whatever callable the file names. This unpickler resolves only an explicit
allowlist of globals -- the builtin containers and the NumPy entries that an
ndarray pickle needs -- so a hostile file is refused before anything runs.
"""

from __future__ import annotations

import io
import pickle
from typing import Any

import numpy as np

from cnnkit._errors import format_error, invalid_value

__all__ = ["restricted_loads"]

try:  # NumPy >= 2 keeps the implementation in numpy._core; pickles may name either
    from numpy._core.multiarray import _reconstruct
    from numpy._core.numeric import _frombuffer
except ImportError:  # pragma: no cover - NumPy 1.x
    from numpy.core.multiarray import _reconstruct
    from numpy.core.numeric import _frombuffer

_ALLOWED: dict[tuple[str, str], Any] = {
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
    ("numpy.core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy._core.multiarray", "_reconstruct"): _reconstruct,
    # pickle protocol 5 rebuilds arrays from a buffer instead
    ("numpy.core.numeric", "_frombuffer"): _frombuffer,
    ("numpy._core.numeric", "_frombuffer"): _frombuffer,
}
for _module in ("builtins", "__builtin__"):  # Python 3 and Python 2 pickles
    for _name, _obj in (
        ("list", list),
        ("dict", dict),
        ("tuple", tuple),
        ("set", set),
        ("frozenset", frozenset),
    ):
        _ALLOWED[(_module, _name)] = _obj


class _Refused(ValueError):
    """A global outside the allowlist; kept apart from malformed-data errors."""


class _RestrictedUnpickler(pickle.Unpickler):
    def __init__(self, data: bytes, what: str):
        super().__init__(io.BytesIO(data), encoding="bytes")
        self._what = what

    def find_class(self, module: str, name: str) -> Any:
        try:
            return _ALLOWED[(module, name)]
        except KeyError:
            raise _Refused(
                format_error(
                    f"Refusing to unpickle {self._what}: it asks for the global "
                    f"'{module}.{name}', which is not on the allowlist of builtin containers "
                    "and NumPy array entries. Nothing in the file was run.",
                    hint="A genuine CIFAR file needs only those; this file may be hostile or "
                    "not the dataset. Delete it and fetch the official file.",
                )
            ) from None


def restricted_loads(data: bytes, what: str) -> Any:
    """Unpickle ``data`` allowing only builtin containers and NumPy arrays.

    Byte strings stay ``bytes`` (``encoding="bytes"``), as the CIFAR files were
    written by Python 2.

    Args:
        data: The pickle bytes.
        what: A description for error messages, e.g. ``"data_batch_1 in cifar-10-python.tar.gz"``.

    Raises:
        ValueError: The pickle names any other global (e.g. ``os.system``) or is malformed.
    """
    try:
        return _RestrictedUnpickler(data, what).load()
    except _Refused:
        raise
    except Exception as err:  # malformed pickle: EOFError, UnpicklingError, ...
        raise invalid_value(
            f"Could not unpickle {what}: {err!r}.",
            hint="The file is corrupted or not the dataset; delete it and fetch it again.",
        ) from err
