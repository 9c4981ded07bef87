"""Shared plotting pieces of the filter, feature-map and embedding plots.

matplotlib and scikit-learn are the ``viz`` extra: they are imported here,
lazily, with an ImportError that says how to install them. Image grids are
drawn as ONE mosaic per panel (tiles copied into a padded array with NumPy),
not one axes per tile, so a 64-filter grid costs one ``imshow``.
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

__all__ = [
    "finish_figure",
    "mosaic",
    "new_figure",
    "require",
    "save_and_close",
    "scale_each",
]

_EXTRA_HINT = "pip install 'cnnkit[viz]'"


def require(module: str, purpose: str) -> ModuleType:
    """Import ``module`` (e.g. ``"matplotlib.figure"``) or explain how to install it.

    Raises:
        ImportError: naming the missing package, what needed it, and the extra.
    """
    try:
        return importlib.import_module(module)
    except ImportError as err:
        package = module.split(".")[0].replace("sklearn", "scikit-learn")
        raise ImportError(
            f"{purpose} needs {package}, which is not installed. Install the viz extra: "
            f"{_EXTRA_HINT}"
        ) from err


def new_figure(figsize: tuple[float, float], path: Any) -> Any:
    """A matplotlib Figure of ``figsize`` inches.

    With a ``path`` the figure is a plain ``Figure`` outside pyplot's global
    state (nothing to close, safe in loops and threads); without one it comes
    from ``pyplot.figure`` so ``plt.show()`` and notebooks display it.
    """
    if path is None:
        plt = require("matplotlib.pyplot", "Plotting")
        return plt.figure(figsize=figsize)
    figure = require("matplotlib.figure", "Plotting")
    return figure.Figure(figsize=figsize)


def finish_figure(fig: Any, path: str | os.PathLike[str] | None, *, dpi: int = 110) -> Any:
    """Lay out ``fig`` and, when ``path`` is given, write it as a PNG atomically.

    Returns:
        ``fig`` itself.
    """
    if path is not None:
        from cnnkit._io import atomic_write

        atomic_write(Path(path), lambda tmp: fig.savefig(tmp, dpi=dpi, format="png"))
    return fig


def save_and_close(fig: Any, path: str | os.PathLike[str], *, dpi: int = 110) -> Path:
    """Write a pyplot figure as a PNG atomically, then release it from pyplot's registry.

    Returns:
        The path written.
    """
    import matplotlib.pyplot as plt

    out = Path(path)
    try:
        finish_figure(fig, out, dpi=dpi)
    finally:
        plt.close(fig)
    return out


def scale_each(tiles: np.ndarray, *, symmetric: bool) -> np.ndarray:
    """Scale every tile (axis 0) into [0, 1] on its own, for display.

    Args:
        tiles: ``(n, ...)`` float array; each ``tiles[i]`` is scaled separately.
        symmetric: True maps ``[-m, m]`` to ``[0, 1]`` with ``m = max|tile|``,
            so 0 is mid-gray and the sign stays visible (kernels); False maps
            ``[min, max]`` to ``[0, 1]`` (activations, RGB kernels). A constant
            tile becomes 0.5 (symmetric, all zero) or 0.

    Returns:
        float32 array of the same shape.
    """
    t = np.asarray(tiles, dtype=np.float64)
    axes = tuple(range(1, t.ndim))
    if symmetric:
        m = np.abs(t).max(axis=axes, keepdims=True)
        out = 0.5 + 0.5 * np.divide(t, m, out=np.zeros_like(t), where=m > 0)
    else:
        lo = t.min(axis=axes, keepdims=True)
        span = t.max(axis=axes, keepdims=True) - lo
        out = np.divide(t - lo, span, out=np.zeros_like(t), where=span > 0)
    return out.astype(np.float32)


def mosaic(tiles: np.ndarray, rows: int, cols: int, pad: int = 1) -> np.ndarray:
    """Lay ``tiles`` out row-major on a ``rows × cols`` grid with ``pad``-pixel gaps.

    Args:
        tiles: ``(n, h, w)`` grayscale or ``(n, h, w, 3)`` RGB tiles, ``n <= rows*cols``.
        rows, cols: Grid size.
        pad: Gap width in pixels between tiles.

    Returns:
        Grayscale: ``(rows*(h+pad)-pad, cols*(w+pad)-pad)`` float32 with NaN in the
        gaps and empty cells (drawn transparent). RGB: the same size with 4 channels,
        alpha 0 in the gaps.
    """
    n, h, w = tiles.shape[:3]
    rgb = tiles.ndim == 4
    depth = (4,) if rgb else ()
    grid = np.full((rows * cols, h + pad, w + pad, *depth), np.nan, dtype=np.float32)
    if rgb:
        grid[...] = 0.0
        grid[:n, :h, :w, :3] = tiles
        grid[:n, :h, :w, 3] = 1.0
    else:
        grid[:n, :h, :w] = tiles
    grid = grid.reshape(rows, cols, h + pad, w + pad, *depth).swapaxes(1, 2)
    grid = grid.reshape(rows * (h + pad), cols * (w + pad), *depth)
    return grid[: rows * (h + pad) - pad, : cols * (w + pad) - pad]
