"""Looking inside a model: find its layers by name, feed it images, record outputs.

Every probe runs the model once per batch in eval mode under
``torch.inference_mode`` and records layer outputs with forward hooks, which
are removed again even when the forward pass fails. Outputs are returned in
the Keras layout (channels last), as every cnnkit layer produces them.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
import torch
from torch import nn

from cnnkit._errors import invalid_type, invalid_value, unknown_name
from cnnkit.layers import Layer
from cnnkit.layers._args import positive_int
from cnnkit.models._model import eval_mode, model_device

__all__ = [
    "as_image_batch",
    "check_model",
    "find_layer",
    "layer_features",
    "leaf_layers",
    "record_outputs",
]


def check_model(model: Any, who: str) -> nn.Module:
    if not isinstance(model, nn.Module):
        raise invalid_type(
            f"{who}: `model` must be a cnnkit model or torch.nn.Module.",
            received={"model": type(model).__name__},
        )
    return model


def leaf_layers(model: nn.Module) -> list[tuple[str, Layer]]:
    """``(name, layer)`` for every cnnkit layer without cnnkit sub-layers, in module order.

    The name is the layer's Keras name (``conv2d_1``), or its module path
    (``features.0``) where two layers share a name.
    """
    leaves = [
        (path, m)
        for path, m in model.named_modules()
        if isinstance(m, Layer)
        and m is not model
        and not any(isinstance(c, Layer) for c in m.modules() if c is not m)
    ]
    counts: dict[str, int] = {}
    for _, m in leaves:
        counts[m.name] = counts.get(m.name, 0) + 1
    return [(m.name if counts[m.name] == 1 else path, m) for path, m in leaves]


def find_layer(model: nn.Module, name: Any, who: str) -> tuple[str, nn.Module]:
    """The layer called ``name`` (Keras name or module path), or a given module of ``model``.

    Raises:
        ValueError: unknown name, with close matches and the valid names.
        TypeError: ``name`` is neither a string nor a module of ``model``.
    """
    if isinstance(name, nn.Module):
        for path, m in model.named_modules():
            if m is name:
                return getattr(m, "name", path) or path, m
        raise invalid_value(
            f"{who}: the given layer is not part of the model.",
            received={"layer": getattr(name, "name", type(name).__name__)},
        )
    if not isinstance(name, str):
        raise invalid_type(
            f"{who}: a layer is given by its name (str) or as the layer object.",
            received={"layer": name},
        )
    for path, m in model.named_modules():
        if m is not model and (getattr(m, "name", None) == name or path == name):
            return name, m
    names = [n for n, _ in leaf_layers(model)]
    raise unknown_name(
        f"layer in model '{getattr(model, 'name', '')}'", name, names, argument="layer"
    )


def _expected_image_shape(model: nn.Module) -> tuple | None:
    try:
        shape = model.input_shape  # cnnkit models; raises ValueError while unknown
    except (AttributeError, ValueError):
        return None
    return tuple(shape) if isinstance(shape, tuple) and len(shape) == 4 else None


def as_image_batch(model: nn.Module, images: Any, who: str, *, single: bool) -> torch.Tensor:
    """Images as a float32 ``(N, H, W, C)`` tensor on the model's device.

    Args:
        model: The model the images are for; its known input shape is checked.
        images: NumPy array or tensor. With ``single=True``: one image ``(H, W)``,
            ``(H, W, C)`` or a batch ``(N, H, W, C)``; otherwise ``(N, H, W, C)``, or
            ``(N, H, W)`` for a one-channel model. uint8 values stay 0..255 (the model
            does any scaling, as in ``fit``). Channels-first models take their own layout.
        who: Function name for messages.
        single: Whether one image without a batch axis is accepted.

    Raises:
        ValueError: wrong rank, or a shape that does not match the model's input.
    """
    x = images if isinstance(images, torch.Tensor) else torch.as_tensor(np.asarray(images))
    given = tuple(x.shape)
    if not (x.is_floating_point() or x.dtype in (torch.uint8, torch.int64, torch.int32)):
        raise invalid_type(f"{who}: images must be numeric.", received={"dtype": str(x.dtype)})
    expected = _expected_image_shape(model)
    if single and x.ndim in (2, 3):
        x = x[None, ..., None] if x.ndim == 2 else x[None]
    elif not single and x.ndim == 3 and expected is not None and expected[-1] == 1:
        x = x[..., None]
    if x.ndim != 4:
        form = "(H, W), (H, W, C) or (N, H, W, C)" if single else "(N, H, W, C)"
        raise invalid_value(f"{who}: images must have the shape {form}.", received={"shape": given})
    if expected is not None and any(
        e is not None and e != g for e, g in zip(expected[1:], x.shape[1:], strict=True)
    ):
        raise invalid_value(
            f"{who}: the image shape does not match the model's input.",
            expected=f"images of shape (H, W, C) = {expected[1:]} (None = any size)",
            received={"shape": given},
            hint="Add the channel axis with x[..., None] for grayscale images.",
        )
    return x.to(model_device(model), torch.float32)


def _ensure_built(model: nn.Module, x: torch.Tensor) -> None:
    # Weights created under inference_mode could never be trained, so an
    # unbuilt model is built by a no_grad pass on one sample first.
    if any(isinstance(m, Layer) and not m.built for m in model.modules()):
        with eval_mode(model), torch.no_grad():
            model(x[:1])


def _keras_layout(module: nn.Module, out: torch.Tensor) -> torch.Tensor:
    if out.ndim == 4 and getattr(module, "data_format", None) == "channels_first":
        return out.permute(0, 2, 3, 1)
    return out


@contextmanager
def _hooks(modules: Sequence[nn.Module], hook: Any, *, pre: bool = False) -> Iterator[None]:
    handles = [
        m.register_forward_pre_hook(hook) if pre else m.register_forward_hook(hook) for m in modules
    ]
    try:
        yield
    finally:
        for h in handles:
            h.remove()


def record_outputs(
    model: nn.Module, x: torch.Tensor, modules: Sequence[nn.Module]
) -> list[tuple[nn.Module, torch.Tensor]]:
    """Run ``model`` once on ``x`` and return ``(module, output)`` in call order.

    Only tensor outputs are kept; a module called twice is listed twice.
    """
    _ensure_built(model, x)
    seen: list[tuple[nn.Module, torch.Tensor]] = []

    def hook(module: nn.Module, _inputs: Any, output: Any) -> None:
        if isinstance(output, torch.Tensor):
            seen.append((module, _keras_layout(module, output)))

    with _hooks(modules, hook), eval_mode(model), torch.inference_mode():
        model(x)
    return seen


def _classifier(model: nn.Module, x: torch.Tensor, who: str) -> nn.Module:
    """The last layer with weights that runs: the classifier whose input is the feature vector."""
    leaves = [m for _, m in leaf_layers(model)]
    order = [m for m, _ in record_outputs(model, x[:1], leaves)]
    weighted = [m for m in order if any(True for _ in m.parameters())]
    if not weighted:
        raise invalid_value(
            f"{who}: the model has no layer with weights, so it has no classifier whose "
            "input could serve as features.",
            received={"layer": None},
            hint="Name the layer to read features from with `layer=`.",
        )
    return weighted[-1]


def layer_features(model: Any, x: Any, layer: Any = None, *, batch_size: int = 256) -> np.ndarray:
    """Learned features of ``x`` as a ``(N, D)`` float32 array, computed in batches.

    Args:
        model: A cnnkit model (or any ``nn.Module`` built from cnnkit layers).
        x: Images ``(N, H, W, C)`` (or ``(N, H, W)`` for a one-channel model).
        layer: Name (or object) of the layer whose output is used, flattened per
            sample. Default: the input of the model's last layer with weights, i.e.
            the features its classifier reads (Keras: the penultimate layer's output).
        batch_size: Images per forward pass. Default 256.
    """
    who = "layer_features"
    model = check_model(model, who)
    positive_int(batch_size, "batch_size", who)
    if len(x) == 0:
        raise invalid_value(f"{who}: no images were given.", received={"len(x)": 0})
    first = as_image_batch(model, x[:1], who, single=False)
    _ensure_built(model, first)
    pre = layer is None
    module = _classifier(model, first, who) if pre else find_layer(model, layer, who)[1]
    chunks: list[torch.Tensor] = []

    def keep(m: nn.Module, inputs: Any, output: Any = None) -> None:
        value = inputs[0] if pre else output
        chunks.append(_keras_layout(m, value).reshape(value.shape[0], -1).float().cpu())

    with _hooks([module], keep, pre=pre), eval_mode(model), torch.inference_mode():
        for start in range(0, len(x), batch_size):
            model(as_image_batch(model, x[start : start + batch_size], who, single=False))
    if not chunks:
        raise invalid_value(
            f"{who}: layer {layer!r} is not used by the model's forward pass.",
            received={"layer": layer},
        )
    return torch.cat(chunks).numpy()
