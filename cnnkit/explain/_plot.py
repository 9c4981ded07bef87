"""Heatmaps over images: one blended array, a three-panel figure, a grid of images x methods.

matplotlib (part of the ``explain`` extra) is imported only here, when drawing;
figures are plain ``matplotlib.figure.Figure`` objects outside pyplot's global
state, and PNGs are written atomically.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from cnnkit._errors import invalid_value
from cnnkit._io import atomic_write

__all__ = ["overlay", "plot_cam", "plot_cam_grid"]

_EXTRA_HINT = "pip install 'cnnkit[explain]'"


def _matplotlib(module: str) -> Any:
    try:
        return importlib.import_module(module)
    except ImportError as err:
        raise ImportError(f"Drawing heatmaps needs matplotlib. {_EXTRA_HINT}") from err


def display_rgb(image: Any, who: str) -> np.ndarray:
    """An image as float RGB in [0, 1] for display: ``(H, W)``, ``(H, W, 1)`` or ``(H, W, 3)``.

    uint8 and values above 1 are read as 0..255 pixels; values in [0, 1] are kept;
    anything else (e.g. a normalised image) is min-max scaled.
    """
    a = np.asarray(image.detach().cpu() if hasattr(image, "detach") else image)
    if a.ndim == 3 and a.shape[-1] == 1:
        a = a[..., 0]
    if a.ndim not in (2, 3) or (a.ndim == 3 and a.shape[-1] != 3):
        raise invalid_value(
            f"{who}: an image must be (H, W), (H, W, 1) or (H, W, 3) (channels-last).",
            received={"image.shape": a.shape},
        )
    a = a.astype(np.float64)
    low, high = float(a.min()), float(a.max())
    if np.asarray(image).dtype == np.uint8 or (low >= 0 and high > 1 and high <= 255):
        a = a / 255.0
    elif low < 0 or high > 1:
        a = (a - low) / (high - low) if high > low else np.zeros_like(a)
    rgb = np.repeat(a[..., None], 3, axis=-1) if a.ndim == 2 else a
    return np.clip(rgb, 0.0, 1.0)


def _check_map(heatmap: Any, shape: tuple[int, ...], who: str) -> np.ndarray:
    m = np.asarray(heatmap, dtype=np.float64)
    if m.shape != tuple(shape[:2]):
        raise invalid_value(
            f"{who}: the heatmap must have the image's height and width.",
            expected=f"shape {tuple(shape[:2])}",
            received={"heatmap.shape": m.shape},
            hint="cam() returns maps at the input resolution; pass the image the map was made for.",
        )
    return np.clip(np.nan_to_num(m), 0.0, 1.0)


def overlay(image: Any, heatmap: Any, *, alpha: float = 0.45, colormap: str = "jet") -> np.ndarray:
    """Blend a heatmap over an image.

    Args:
        image: ``(H, W)``, ``(H, W, 1)`` or ``(H, W, 3)``, pixels 0..255 or 0..1.
        heatmap: ``(H, W)`` in [0, 1], e.g. one map from :func:`cam`.
        alpha: Weight of the heatmap's colours. Default 0.45.
        colormap: A matplotlib colormap name. Default ``"jet"`` (red = high).

    Returns:
        uint8 RGB ``(H, W, 3)``.
    """
    who = "overlay"
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not 0 <= alpha <= 1:
        raise invalid_value(f"{who}: `alpha` must be in [0, 1].", received={"alpha": alpha})
    rgb = display_rgb(image, who)
    m = _check_map(heatmap, rgb.shape, who)
    colormaps = _matplotlib("matplotlib").colormaps
    if colormap not in colormaps:
        raise invalid_value(
            f"{who}: unknown matplotlib colormap.",
            received={"colormap": colormap},
            hint="For example 'jet', 'inferno', 'viridis', 'turbo'.",
        )
    colours = colormaps[colormap](m)[..., :3]
    return np.round(255 * ((1 - alpha) * rgb + alpha * colours)).astype(np.uint8)


def _label(class_name: str | None, probability: float | None) -> str:
    parts = [] if class_name is None else [str(class_name)]
    if probability is not None:
        parts.append(f"p={float(probability):.3f}")
    return " ".join(parts)


def _save(fig: Any, path: str | os.PathLike[str] | None, dpi: int) -> Any:
    if path is not None:
        atomic_write(Path(path), lambda tmp: fig.savefig(tmp, dpi=dpi, format="png"))
    return fig


def plot_cam(
    image: Any,
    heatmap: Any,
    *,
    class_name: str | None = None,
    probability: float | None = None,
    method: str | None = None,
    path: str | os.PathLike[str] | None = None,
    dpi: int = 110,
) -> Any:
    """A PNG-ready figure: the image, the heatmap, and the overlay with class and probability.

    Args:
        image, heatmap: As :func:`overlay`.
        class_name: The explained class, shown in the title. Default: not shown.
        probability: The model's probability of it. Default: not shown.
        method: The method's name, shown over the heatmap. Default ``"heatmap"``.
        path: Where to write the PNG (atomically). Default: not saved.
        dpi: PNG resolution. Default 110.

    Returns:
        The matplotlib Figure.
    """
    figure = _matplotlib("matplotlib.figure")
    rgb = display_rgb(image, "plot_cam")
    m = _check_map(heatmap, rgb.shape, "plot_cam")
    fig = figure.Figure(figsize=(9.0, 3.4))
    axes = fig.subplots(1, 3)
    panels = [
        (rgb, None, "image"),
        (m, "jet", method or "heatmap"),
        (overlay(rgb, m), None, _label(class_name, probability) or "overlay"),
    ]
    for ax, (data, cmap, title) in zip(axes, panels, strict=True):
        shown = ax.imshow(data, cmap=cmap, vmin=0.0, vmax=1.0, interpolation="nearest")
        ax.set_title(title, fontsize=10)
        ax.set_axis_off()
        if cmap is not None:
            fig.colorbar(shown, ax=ax, fraction=0.046, pad=0.03)
    fig.tight_layout()
    return _save(fig, path, dpi)


def plot_cam_grid(
    images: Any,
    maps: Mapping[str, Any],
    *,
    class_names: Sequence[str] | None = None,
    probabilities: Sequence[float] | None = None,
    path: str | os.PathLike[str] | None = None,
    dpi: int = 90,
    tile: float = 2.2,
) -> Any:
    """A grid: one row per image (the image, then one overlay per method).

    Args:
        images: ``N`` images ``(N, H, W[, C])``, channels-last.
        maps: ``{method name: (N, H, W) maps}``, one column each, in order.
        class_names: One label per image, shown over its first panel. Default: none.
        probabilities: One probability per image, shown with the label. Default: none.
        path: Where to write the PNG (atomically). Default: not saved.
        dpi: PNG resolution. Default 90.
        tile: Panel side in inches. Default 2.2.

    Returns:
        The matplotlib Figure.

    Raises:
        ValueError: no maps, or maps/labels whose count or size does not match the images.
    """
    who = "plot_cam_grid"
    n = len(images)
    if not maps:
        raise invalid_value(f"{who}: `maps` needs at least one method.", received={"maps": {}})
    for name, value in maps.items():
        if len(value) != n:
            raise invalid_value(
                f"{who}: method {name!r} has {len(value)} maps for {n} images.",
                received={f"len(maps[{name!r}])": len(value)},
            )
    for name, value in (("class_names", class_names), ("probabilities", probabilities)):
        if value is not None and len(value) != n:
            raise invalid_value(
                f"{who}: `{name}` needs one entry per image.",
                expected=f"{n} entries",
                received={f"len({name})": len(value)},
            )
    figure = _matplotlib("matplotlib.figure")
    cols = 1 + len(maps)
    fig = figure.Figure(figsize=(tile * cols, tile * n + 0.3))
    axes = np.asarray(fig.subplots(n, cols, squeeze=False))
    for i in range(n):
        rgb = display_rgb(images[i], who)
        label = _label(
            None if class_names is None else class_names[i],
            None if probabilities is None else probabilities[i],
        )
        axes[i, 0].imshow(rgb, interpolation="nearest")
        axes[i, 0].set_title(label or f"image {i}", fontsize=9)
        for j, (name, value) in enumerate(maps.items(), start=1):
            axes[i, j].imshow(overlay(rgb, _check_map(value[i], rgb.shape, who)))
            if i == 0:
                axes[i, j].set_title(name, fontsize=10)
        for ax in axes[i]:
            ax.set_axis_off()
    fig.tight_layout()
    return _save(fig, path, dpi)
