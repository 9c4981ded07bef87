"""What the Overview and Inside-a-neuron pages show, from the model's real tensors.

Layer outputs are recorded by :mod:`cnnkit.viz`'s probes (forward hooks, one
pass, inference mode); the worked sum of a convolution cell is
:func:`cnnkit.ops.explain` on the layer's real input and kernel, and a pooling
cell is :func:`cnnkit.ops.pool2d` over its window. Each answer carries the
value the layer itself produced, so the page shows both and they can be compared.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from cnnkit import ops
from cnnkit._errors import invalid_value, unknown_name
from cnnkit.layers import AveragePooling2D, Conv2D, DepthwiseConv2D, MaxPooling2D
from cnnkit.serve._models import NotServed, ServedModel
from cnnkit.viz import conv_kernel
from cnnkit.viz._probe import _hooks, _keras_layout, as_image_batch, leaf_layers, record_outputs

__all__ = ["EXPLAINED_TYPES", "activations", "explain_cell"]

#: Layer types whose cells the Inside-a-neuron page can explain.
EXPLAINED_TYPES = (Conv2D, DepthwiseConv2D, MaxPooling2D, AveragePooling2D)

#: Input channels sent with an explanation (the sum itself covers all of them).
MAX_INPUT_MAPS = 16


def _rounded(a: np.ndarray) -> Any:
    return np.round(a.astype(np.float64), 5).tolist()


def activations(served: ServedModel, image: np.ndarray, max_channels: int = 16) -> dict:
    """Every innermost layer's output for one image, in call order.

    Args:
        served: The model.
        image: ``(H, W, C)`` uint8 at the model's input size.
        max_channels: Channels sent per image-shaped layer (the first ones). Default 16.

    Returns:
        ``{"input": {...}, "layers": [...]}``; image layers have ``maps``, a list of
        ``(h, w)`` channels, vector layers have ``values``; each has ``name``, ``type``,
        ``shape`` (Keras, ``None`` batch), ``min``, ``max`` and ``explainable``.
    """
    model = served.model
    x = as_image_batch(model, image, "activations", single=True)
    leaves = leaf_layers(model)
    named = {id(m): name for name, m in leaves}
    with served.lock:
        recorded = record_outputs(model, x, [m for _, m in leaves])
    layers, seen = [], set()
    for module, out in recorded:
        if id(module) in seen:  # a layer called twice keeps its first output
            continue
        seen.add(id(module))
        a = out[0].float().cpu().numpy()
        entry = {
            "name": named[id(module)],
            "type": type(module).__name__,
            "shape": [None, *a.shape],
            "min": float(a.min()) if a.size else 0.0,
            "max": float(a.max()) if a.size else 0.0,
            "explainable": isinstance(module, EXPLAINED_TYPES),
        }
        if a.ndim == 3:
            entry["maps"] = _rounded(a[..., :max_channels].transpose(2, 0, 1))
        else:
            entry["values"] = _rounded(a.reshape(-1))
        layers.append(entry)
    pixels = image.astype(np.float64)
    return {
        "input": {"shape": list(image.shape), "maps": _rounded(pixels.transpose(2, 0, 1))},
        "layers": layers,
    }


def _layer(served: ServedModel, name: str) -> nn.Module:
    leaves = dict(leaf_layers(served.model))
    if name not in leaves:
        raise NotServed(unknown_name("layer", name, list(leaves), argument="layer"))
    module = leaves[name]
    if not isinstance(module, EXPLAINED_TYPES):
        raise invalid_value(
            f"Layer {name!r} ({type(module).__name__}) has no worked sum to show.",
            expected="a Conv2D, DepthwiseConv2D, MaxPooling2D or AveragePooling2D layer",
            received={"layer": name},
        )
    return module


def _layer_io(served: ServedModel, x: torch.Tensor, module: nn.Module) -> tuple:
    """The module's first input and output in this forward pass, channels last."""
    seen: dict[str, torch.Tensor] = {}

    def keep_input(m: nn.Module, args: Any) -> None:
        seen.setdefault("in", _keras_layout(m, args[0]))

    with served.lock, _hooks([module], keep_input, pre=True):
        out = dict(record_outputs(served.model, x, [module]))[module]
    return seen["in"][0].float().numpy(), out[0].float().numpy()


def _check_cell(out: np.ndarray, channel: int, row: int, col: int) -> None:
    h, w, c = out.shape
    if not (0 <= row < h and 0 <= col < w and 0 <= channel < c):
        raise invalid_value(
            "The cell is outside the layer's output.",
            expected=f"0 <= row < {h}, 0 <= col < {w}, 0 <= channel < {c}",
            received={"row": row, "col": col, "channel": channel},
        )


def explain_cell(
    served: ServedModel, image: np.ndarray, layer: str, channel: int, row: int, col: int
) -> dict:
    """The worked computation of one output cell ``(row, col, channel)`` of ``layer``.

    Returns a dict with ``kind`` ("conv" or "pool"), the input ``window``, the layer's
    ``output`` value and, for convolutions, ``kernel``, ``products``, ``sum``
    (``Σ kernel · window``), ``bias``, ``pre_activation``, ``activation``,
    ``activated`` and ``sum_text`` (from :meth:`cnnkit.ops.Explanation.sum_text`);
    for pooling ``mode``, ``winner`` (window index of the max) and ``value``. Both carry
    ``origin`` and ``window_size`` (where the window sits in the input), ``output_map``
    (the whole output channel) and ``input_maps`` (the input channels used, at most 16).

    Raises:
        NotServed: no such layer (the app answers 404).
        ValueError: a layer type without a worked sum, or a cell outside the output.
    """
    module = _layer(served, layer)
    x = as_image_batch(served.model, image, "explain", single=True)
    layer_in, layer_out = _layer_io(served, x, module)
    _check_cell(layer_out, channel, row, col)
    base = {"layer": layer, "type": type(module).__name__, "channel": channel}
    base |= {"row": row, "col": col, "output": float(layer_out[row, col, channel])}
    base["input_shape"] = list(layer_in.shape)
    base["output_map"] = _rounded(layer_out[..., channel])
    if isinstance(module, (MaxPooling2D, AveragePooling2D)):
        cell = _pool_cell(module, layer_in, channel, row, col)
    else:
        cell = _conv_cell(module, layer_in, channel, row, col)
    shown = cell["input_channels"][:MAX_INPUT_MAPS]
    return base | cell | {"input_maps": _rounded(layer_in[..., shown].transpose(2, 0, 1))}


def _conv_cell(module: nn.Module, layer_in: np.ndarray, f: int, row: int, col: int) -> dict:
    kernel = conv_kernel(module)[1]  # Keras layout (kh, kw, in / groups, filters)
    per_group = kernel.shape[2]
    group = f // (module.filters // module.groups)
    channels = list(range(group * per_group, (group + 1) * per_group))
    x, k = layer_in[..., channels], kernel[..., f]
    if per_group == 1:  # one input channel: 2-D window and kernel read more simply
        x, k = x[..., 0], k[..., 0]
    e = ops.explain(
        x, k, at=(row, col), strides=module.strides, padding=module.padding,
        dilation=module.dilation_rate,
    )  # fmt: skip
    bias = float(module.bias[f].detach()) if module.bias is not None else 0.0
    pre = float(e.value) + bias
    activated = float(module.activation(torch.tensor([pre]))[0])
    name = getattr(module.activation, "__name__", type(module.activation).__name__)
    return {
        "kind": "conv",
        "input_channels": channels,
        "origin": list(e.origin),
        "window_size": [(n - 1) * d + 1 for n, d in zip(k.shape[:2], e.dilation, strict=True)],
        "padded": e.padded,
        "window": _rounded(np.atleast_3d(e.window)),
        "kernel": _rounded(np.atleast_3d(e.kernel)),
        "products": _rounded(np.atleast_3d(e.products)),
        "sum": float(e.value),
        "sum_text": e.sum_text(),
        "bias": bias,
        "pre_activation": pre,
        "activation": name,
        "activated": activated,
    }


def _pool_cell(module: nn.Module, layer_in: np.ndarray, c: int, row: int, col: int) -> dict:
    (ph, pw), (sh, sw) = module.pool_size, module.strides
    h, w = layer_in.shape[:2]
    if module.padding == "same":
        top, left = ops.same_padding(h, ph, sh)[0], ops.same_padding(w, pw, sw)[0]
    else:
        top = left = 0
    r0, c0 = row * sh - top, col * sw - left
    # Padded pixels are not part of the window (Keras: they never win, nor count in a mean).
    rows = slice(max(r0, 0), min(r0 + ph, h))
    cols = slice(max(c0, 0), min(c0 + pw, w))
    window = layer_in[rows, cols, c]
    mode = "max" if isinstance(module, MaxPooling2D) else "avg"
    value = ops.pool2d(window, pool_size=window.shape, mode=mode)[0, 0]
    winner = np.unravel_index(int(np.argmax(window)), window.shape)
    return {
        "kind": "pool",
        "mode": mode,
        "input_channels": [c],
        "origin": [rows.start, cols.start],
        "window_size": list(window.shape),
        "window": _rounded(window[..., None]),
        "winner": [int(winner[0]), int(winner[1])] if mode == "max" else None,
        "value": float(value),
    }
