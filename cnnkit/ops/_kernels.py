"""Named classic image kernels, written for cross-correlation (``correlate2d``).

The orientation convention: ``sobel_x`` is positive where the image gets
brighter from left to right, ``sobel_y`` where it gets brighter from top to
bottom, when applied with :func:`cnnkit.ops.correlate2d` (what CNN layers do).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

import numpy as np

from cnnkit._errors import unknown_name

__all__ = ["KERNELS", "kernel", "kernel_description"]


def _frozen(rows: list[list[float]], scale: float = 1.0) -> np.ndarray:
    array = np.array(rows, dtype=np.float64) * scale
    array.flags.writeable = False
    return array


_BINOMIAL_5 = np.array([1, 4, 6, 4, 1], dtype=np.float64)

# name -> (kernel, one-line description). Kept together so each kernel states its purpose.
_TABLE: dict[str, tuple[np.ndarray, str]] = {
    "identity": (_frozen([[0, 0, 0], [0, 1, 0], [0, 0, 0]]), "returns the image unchanged"),
    "edge_vertical": (
        _frozen([[1, 0, -1], [1, 0, -1], [1, 0, -1]]),
        "vertical edges: positive where bright turns dark left to right (the CNN course's)",
    ),
    "edge_horizontal": (
        _frozen([[1, 1, 1], [0, 0, 0], [-1, -1, -1]]),
        "horizontal edges: positive where bright turns dark top to bottom",
    ),
    "edge_diagonal": (
        _frozen([[1, 0, -1], [0, 0, 0], [-1, 0, 1]]),
        "diagonal edges (the first edge kernel of the classic Wikipedia table)",
    ),
    "laplacian_4": (
        _frozen([[0, 1, 0], [1, -4, 1], [0, 1, 0]]),
        "second derivative, 4 neighbours: edges in every direction, zero on flat areas",
    ),
    "laplacian_8": (
        _frozen([[1, 1, 1], [1, -8, 1], [1, 1, 1]]),
        "second derivative, 8 neighbours (diagonals too)",
    ),
    "sharpen": (
        _frozen([[0, -1, 0], [-1, 5, -1], [0, -1, 0]]),
        "identity minus the 4-neighbour laplacian: boosts edges, sums to 1",
    ),
    "box_blur": (
        _frozen([[1, 1, 1], [1, 1, 1], [1, 1, 1]], 1 / 9),
        "mean of the 3×3 neighbourhood",
    ),
    "gaussian_3x3": (
        _frozen([[1, 2, 1], [2, 4, 2], [1, 2, 1]], 1 / 16),
        "3×3 binomial approximation of a gaussian blur (σ ≈ 0.7)",
    ),
    "gaussian_5x5": (
        _frozen(np.outer(_BINOMIAL_5, _BINOMIAL_5).tolist(), 1 / 256),
        "5×5 binomial approximation of a gaussian blur (σ ≈ 1)",
    ),
    "sobel_x": (
        _frozen([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]),
        "horizontal gradient (vertical edges), smoothed across rows",
    ),
    "sobel_y": (
        _frozen([[-1, -2, -1], [0, 0, 0], [1, 2, 1]]),
        "vertical gradient (horizontal edges), smoothed across columns",
    ),
    "prewitt_x": (
        _frozen([[-1, 0, 1], [-1, 0, 1], [-1, 0, 1]]),
        "horizontal gradient with equal weights",
    ),
    "prewitt_y": (
        _frozen([[-1, -1, -1], [0, 0, 0], [1, 1, 1]]),
        "vertical gradient with equal weights",
    ),
    "scharr_x": (
        _frozen([[-3, 0, 3], [-10, 0, 10], [-3, 0, 3]]),
        "horizontal gradient with better rotational symmetry than sobel",
    ),
    "scharr_y": (
        _frozen([[-3, -10, -3], [0, 0, 0], [3, 10, 3]]),
        "vertical gradient with better rotational symmetry than sobel",
    ),
    "roberts_x": (_frozen([[1, 0], [0, -1]]), "2×2 diagonal difference (an even kernel)"),
    "roberts_y": (_frozen([[0, 1], [-1, 0]]), "2×2 anti-diagonal difference (an even kernel)"),
    "high_pass": (
        _frozen([[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]], 1 / 9),
        "identity minus box_blur: keeps detail, removes the local mean (sums to 0)",
    ),
}

KERNELS: Mapping[str, np.ndarray] = MappingProxyType({k: v[0] for k, v in _TABLE.items()})
"""Read-only mapping from name to a read-only float64 kernel; use :func:`kernel` for a copy."""


def _lookup(name: str) -> tuple[np.ndarray, str]:
    if not isinstance(name, str) or name not in _TABLE:
        raise unknown_name("kernel", name, _TABLE, argument="name")
    return _TABLE[name]


def kernel(name: str) -> np.ndarray:
    """A writable float64 copy of the named kernel.

    Raises:
        ValueError: For an unknown name, listing the names and the closest matches.

    Example:
        >>> kernel("sobel_x")
        array([[-1.,  0.,  1.],
               [-2.,  0.,  2.],
               [-1.,  0.,  1.]])
    """
    return _lookup(name)[0].copy()


def kernel_description(name: str) -> str:
    """One line on what the named kernel does."""
    return _lookup(name)[1]
