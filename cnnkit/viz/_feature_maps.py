"""Feature maps: what each layer of a CNN outputs for one image.

:func:`feature_maps` returns the raw outputs (one forward pass, forward hooks,
``torch.inference_mode``); :func:`plot_feature_maps` draws the input image and,
per layer, a grid of its first channels, with the output shape in the title.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from typing import Any

import numpy as np
from torch import nn

from cnnkit._errors import invalid_value
from cnnkit.layers._args import positive_int
from cnnkit.viz._plotting import finish_figure, mosaic, new_figure, scale_each
from cnnkit.viz._probe import (
    as_image_batch,
    check_model,
    find_layer,
    leaf_layers,
    record_outputs,
)

__all__ = ["feature_maps", "plot_feature_maps"]

#: Feature maps per row in :func:`plot_feature_maps`.
_COLS = 8


def _targets(model: nn.Module, layers: Any, who: str) -> tuple[list[tuple[str, nn.Module]], bool]:
    if layers is None:
        return leaf_layers(model), True
    if isinstance(layers, (str, nn.Module)):
        layers = [layers]
    if not isinstance(layers, Sequence) or not layers:
        raise invalid_value(
            f"{who}: `layers` must be a layer name, a layer, or a non-empty list of them.",
            received={"layers": layers},
        )
    return [find_layer(model, layer, who) for layer in layers], False


def _collect(model: Any, image: Any, layers: Any, who: str) -> tuple[np.ndarray, dict]:
    model = check_model(model, who)
    x = as_image_batch(model, image, who, single=True)
    targets, automatic = _targets(model, layers, who)
    names = {id(m): name for name, m in targets}
    found: dict[str, np.ndarray] = {}
    for module, out in record_outputs(model, x, [m for _, m in targets]):
        name = names[id(module)]
        # A layer called twice (shared weights) keeps its first output.
        if name not in found and (out.ndim == 4 or not automatic):
            found[name] = out.float().cpu().numpy()
    missing = [name for name, _ in targets if name not in found]
    if not automatic and missing:
        raise invalid_value(
            f"{who}: layer(s) {missing} did not run in the model's forward pass.",
            received={"layers": layers},
        )
    if not automatic:
        found = {name: found[name] for name, _ in targets}
    return x.float().cpu().numpy(), found


def feature_maps(model: Any, image: Any, layers: Any = None) -> dict[str, np.ndarray]:
    """Outputs of a model's layers for one image (or a batch), in Keras layout.

    Args:
        model: A cnnkit model, e.g. a trained LeNet-5.
        image: One image ``(H, W)`` or ``(H, W, C)``, or a batch ``(N, H, W, C)``,
            preprocessed as for training (uint8 values are passed on as 0..255).
        layers: A layer name (Keras name such as ``"conv2d_1"`` or a module path such
            as ``"features.0"``), a layer object, or a list of them. Default: every
            innermost cnnkit layer whose output is an image ``(N, h, w, c)``.

    Returns:
        ``{layer name: array}`` in call order (or in the order of ``layers``); image
        outputs are ``(N, h, w, c)`` float32 (``N = 1`` for one image), others as
        the layer returns them (e.g. ``(N, units)`` for Dense).

    Raises:
        ValueError: unknown layer name (with suggestions), a layer the forward pass
            does not use, or an image that does not fit the model's input shape.
    """
    return _collect(model, image, layers, "feature_maps")[1]


def plot_feature_maps(
    model: Any,
    image: Any,
    layers: Any = None,
    max_maps: int = 16,
    path: str | os.PathLike[str] | None = None,
    *,
    max_layers: int = 12,
) -> Any:
    """Draw the input image and each layer's first ``max_maps`` feature maps.

    Args:
        model, image, layers: As :func:`feature_maps`; for a batch the first image
            is drawn.
        max_maps: Channels shown per layer (the first ones), 8 per row, row-major. Default 16.
        path: Where to save the figure as a PNG (atomic write). Default: not saved.
        max_layers: With ``layers=None``, draw at most this many layers (the first
            ones, said in the figure title; a ResNet-50 has over 100). Default 12.
            An explicit ``layers`` list is always drawn in full.

    Each map is min–max scaled on its own (viridis: dark = its minimum, yellow =
    its maximum); a constant map (e.g. a ReLU map that is all zero) is drawn dark.

    Returns:
        The matplotlib Figure.

    Raises:
        ValueError: as :func:`feature_maps`, a named layer whose output is not an
            image, or a model with no image-shaped layer output.
    """
    who = "plot_feature_maps"
    positive_int(max_maps, "max_maps", who)
    positive_int(max_layers, "max_layers", who)
    x, maps = _collect(model, image, layers, who)
    total = len(maps)
    if layers is None:
        maps = dict(list(maps.items())[:max_layers])
    flat = {name: a.shape for name, a in maps.items() if a.ndim != 4}
    if flat:
        raise invalid_value(
            f"{who}: only image-shaped outputs (N, h, w, c) can be drawn as feature maps.",
            received={"output shapes": flat},
        )
    if not maps:
        raise invalid_value(
            f"{who}: no layer of the model outputs an image (N, h, w, c).",
            received={"model": type(model).__name__},
        )
    panels = [_input_panel(x[0])] + [
        _layer_panel(name, model, a, max_maps) for name, a in maps.items()
    ]
    width = 8.0
    # Every layer's grid is _COLS tiles wide, so tiles of one layer share a size;
    # the input image gets a quarter of the width.
    heights = [width / 4 + 0.4] + [width * m.shape[0] / m.shape[1] + 0.4 for _, m, _ in panels[1:]]
    fig = new_figure((width, sum(heights)), path)
    grid = fig.add_gridspec(len(panels), 1, height_ratios=heights)
    for i, (title, image_array, cmap) in enumerate(panels):
        ax = fig.add_subplot(grid[i])
        ax.imshow(image_array, cmap=cmap, vmin=0.0, vmax=1.0, interpolation="nearest")
        ax.set_title(title, fontsize=9)
        ax.set_axis_off()
    if len(maps) < total:
        fig.suptitle(f"first {len(maps)} of {total} layers; choose others with layers=", fontsize=9)
    fig.tight_layout()
    return finish_figure(fig, path)


def _input_panel(image: np.ndarray) -> tuple[str, np.ndarray, str | None]:
    h, w, c = image.shape
    shown = image if c == 3 else image[..., 0]
    title = f"input ({h}, {w}, {c})" + ("" if c in (1, 3) else ", channel 0")
    return title, scale_each(shown[None], symmetric=False)[0], None if c == 3 else "gray"


def _layer_panel(
    name: str, model: nn.Module, maps: np.ndarray, max_maps: int
) -> tuple[str, np.ndarray, str]:
    _, module = find_layer(model, name, "plot_feature_maps")
    channels = maps.shape[-1]
    tiles = scale_each(maps[0, ..., :max_maps].transpose(2, 0, 1), symmetric=False)
    cols = _COLS
    shape = (None, *maps.shape[1:])
    shown = f", maps 0-{len(tiles) - 1} of {channels}" if channels > len(tiles) else ""
    title = f"{name} ({type(module).__name__}) output {shape}{shown}"
    return title, mosaic(tiles, math.ceil(len(tiles) / cols), cols), "viridis"
