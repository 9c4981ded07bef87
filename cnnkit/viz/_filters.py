"""Convolution kernels as an image grid: what the first layer of a CNN has learned.

A 3-channel layer (the first layer of a colour network) shows every filter as
one small RGB image. Any other layer shows every (filter, input channel)
kernel slice in grayscale: one row per filter, one column per input channel
(a single-channel layer is wrapped into a square grid instead).
"""

from __future__ import annotations

import math
import os
from typing import Any

import numpy as np
from torch import nn

from cnnkit._errors import invalid_type, invalid_value
from cnnkit.layers._args import positive_int
from cnnkit.layers._conv import ConvBase
from cnnkit.viz._plotting import finish_figure, mosaic, new_figure, scale_each
from cnnkit.viz._probe import find_layer

__all__ = ["conv_kernel", "plot_filters"]

_GAP_COLOUR = "#cfe2f3"


def _is_conv2d(module: nn.Module) -> bool:
    return (isinstance(module, ConvBase) and module.rank == 2) or isinstance(module, nn.Conv2d)


def _kernel_of(module: nn.Module) -> Any:
    # SeparableConv2D's spatial kernel is its depthwise one; the pointwise part is 1×1.
    weight = getattr(module, "depthwise_weight", None)
    return getattr(module, "weight", None) if weight is None else weight


def _pick_layer(model_or_layer: Any, layer: Any) -> tuple[str, nn.Module]:
    who = "plot_filters"
    if not isinstance(model_or_layer, nn.Module):
        raise invalid_type(
            f"{who}: `model_or_layer` must be a cnnkit model or layer (a torch.nn.Module).",
            received={"model_or_layer": type(model_or_layer).__name__},
        )
    if layer is not None:
        name, module = find_layer(model_or_layer, layer, who)
        if not _is_conv2d(module):
            raise invalid_value(
                f"{who}: layer {name!r} ({type(module).__name__}) is not a 2-D convolution, "
                "so it has no kernels to show.",
                expected="a Conv2D, DepthwiseConv2D or SeparableConv2D layer",
                received={"layer": layer},
            )
        return name, module
    for path, module in model_or_layer.named_modules():
        if _is_conv2d(module):
            return getattr(module, "name", None) or path or type(module).__name__, module
    raise invalid_value(
        f"{who}: no 2-D convolution layer found in "
        f"{type(model_or_layer).__name__} '{getattr(model_or_layer, 'name', '')}'.",
        expected="a model containing a Conv2D, DepthwiseConv2D or SeparableConv2D layer",
        received={"model_or_layer": type(model_or_layer).__name__},
    )


def conv_kernel(model_or_layer: Any, layer: Any = None) -> tuple[str, np.ndarray]:
    """The kernel that :func:`plot_filters` draws, in Keras layout.

    Args:
        model_or_layer: A model, or a convolution layer itself.
        layer: Name (or object) of the convolution layer; default the first one.

    Returns:
        ``(name, kernel)`` with ``kernel`` of shape ``(kh, kw, in_channels, filters)``
        (per group for grouped convolutions, 1 input channel for depthwise ones).

    Raises:
        ValueError: no convolution layer, an unknown or non-convolution ``layer``,
            or a layer that has no weights yet.
    """
    name, _, kernel = _kernel(model_or_layer, layer)
    return name, kernel


def _kernel(model_or_layer: Any, layer: Any) -> tuple[str, nn.Module, np.ndarray]:
    name, module = _pick_layer(model_or_layer, layer)
    weight = _kernel_of(module)
    if weight is None:
        raise invalid_value(
            f"plot_filters: layer {name!r} has no weights yet (it is not built).",
            received={"layer": name},
            hint="Build the model first: give it an input shape or call model.build(...).",
        )
    # torch stores (filters, in, kh, kw); Keras shows (kh, kw, in, filters).
    return name, module, weight.detach().float().cpu().numpy().transpose(2, 3, 1, 0)


def _tiles(kernel: np.ndarray, max_filters: int, max_channels: int) -> tuple[np.ndarray, int, int]:
    """Display tiles in [0, 1] and the grid ``(rows, cols)`` for a Keras-layout kernel."""
    k = kernel[..., :max_filters].transpose(3, 0, 1, 2)  # (filters, kh, kw, in)
    n, cin = k.shape[0], k.shape[-1]
    if cin == 3:
        cols = math.ceil(math.sqrt(n))
        return scale_each(k, symmetric=False), math.ceil(n / cols), cols
    # Scaled per filter across its input channels, so one filter's slices compare.
    scaled = scale_each(k[..., :max_channels], symmetric=True).transpose(0, 3, 1, 2)
    if cin == 1:
        cols = math.ceil(math.sqrt(n))
        return scaled[:, 0], math.ceil(n / cols), cols
    rows, cols = scaled.shape[:2]
    return scaled.reshape(rows * cols, *scaled.shape[2:]), rows, cols


def plot_filters(
    model_or_layer: Any,
    layer: Any = None,
    *,
    max_filters: int = 64,
    max_channels: int = 8,
    path: str | os.PathLike[str] | None = None,
) -> Any:
    """Draw a convolution layer's kernels as an image grid.

    Args:
        model_or_layer: A model (the first 2-D convolution is used unless ``layer``
            is given) or a convolution layer.
        layer: Name or object of the convolution layer to show.
        max_filters: Show at most this many filters (the first ones). Default 64.
        max_channels: For a layer with other than 3 input channels, show at most
            this many input channels per filter. Default 8.
        path: Where to save the figure as a PNG (atomic write). Default: not saved.

    Display scaling: RGB filters are each min–max scaled to [0, 1]. Grayscale
    kernels are scaled per filter so that 0 is mid-gray, white is the filter's
    largest ``+|w|`` and black ``-|w|``: the sign of every weight stays visible.

    Returns:
        The matplotlib Figure (from pyplot when ``path`` is None, so ``plt.show()``
        shows it).
    """
    positive_int(max_filters, "max_filters", "plot_filters")
    positive_int(max_channels, "max_channels", "plot_filters")
    name, module, kernel = _kernel(model_or_layer, layer)
    tiles, rows, cols = _tiles(kernel, max_filters, max_channels)
    kh, kw, cin, filters = kernel.shape
    rgb = tiles.ndim == 4
    cell = min(1.0, max(0.12, 9.0 / max(rows, cols)))  # inches per tile
    fig = new_figure((max(4.0, cols * cell + 1.6), max(2.5, rows * cell + 1.2)), path)
    ax = fig.add_subplot()
    # Gaps are transparent; a light blue background keeps them apart from white weights.
    ax.set_facecolor(_GAP_COLOUR)
    image = ax.imshow(
        mosaic(tiles, rows, cols),
        cmap=None if rgb else "gray",
        vmin=0.0,
        vmax=1.0,
        interpolation="nearest",
    )
    shown = f", first {min(filters, max_filters)} shown" if filters > max_filters else ""
    ax.set_title(
        f"{name} ({type(module).__name__})\nkernel {(kh, kw, cin, filters)} "
        f"= (kh, kw, in, filters){shown}",
        fontsize=9,
    )
    per_channel = not rgb and cin > 1
    ax.set_xlabel("input channel" if per_channel else "filter (row-major)", fontsize=8)
    if per_channel:
        ax.set_ylabel("filter", fontsize=8)
        ax.set_xticks(np.arange(cols) * (kw + 1) + (kw - 1) / 2, [str(i) for i in range(cols)])
        ax.set_yticks(np.arange(rows) * (kh + 1) + (kh - 1) / 2, [str(i) for i in range(rows)])
        ax.tick_params(labelsize=6, length=0)
    else:
        ax.set_xticks([])
        ax.set_yticks([])
    if not rgb:
        bar = fig.colorbar(image, ax=ax, fraction=0.04, pad=0.02, ticks=[0.0, 0.5, 1.0])
        bar.ax.set_yticklabels(["-max|w|", "0", "+max|w|"], fontsize=7)
    fig.tight_layout()
    return finish_figure(fig, path)
