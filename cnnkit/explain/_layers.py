"""Which layer a class activation map is read from.

``layer=None`` picks the last module whose output is an image with more than one
spatial position, in the order the forward pass finishes modules (so a whole
ResNet stage such as ``layer4`` wins over its last ReLU, as in torchcam's
``locate_candidate_layer``). A layer is also accepted by its Keras name
(``"conv2d_3"``), its module path (``"layer4.1.conv2"``) or as the object.
"""

from __future__ import annotations

from typing import Any

from torch import nn

from cnnkit._errors import invalid_type, invalid_value, unknown_name
from cnnkit.explain._adapter import ModelView, prepare

__all__ = ["find_cam_layer", "layer_name", "resolve_layer"]


def layer_name(model: nn.Module, path: str, module: nn.Module) -> str:
    """The Keras name of a cnnkit layer when it is unique in ``model``, else the module path."""
    name = getattr(module, "name", None)
    if isinstance(name, str) and name:
        same = sum(1 for m in model.modules() if getattr(m, "name", None) == name)
        if same == 1:
            return name
    return path


def _spatial(shape: tuple[int, ...]) -> bool:
    return len(shape) == 4 and shape[2] * shape[3] > 1


def _names(view: ModelView) -> list[str]:
    seen: dict[str, None] = {}
    for path, module, _ in view.calls:
        seen.setdefault(layer_name(view.model, path, module), None)
    return list(seen)


def find_module(
    model: nn.Module,
    layer: Any,
    who: str,
    choices: list[str] | None = None,
    argument: str = "layer",
) -> tuple[str, nn.Module]:
    """``(module path, module)`` of ``layer``: a Keras name, a module path or a module of ``model``.

    Args:
        choices: Names listed in the unknown-name error; default every named module's.
        argument: The argument named in that error.

    Raises:
        ValueError: unknown name (with close matches) or a module not in the model.
        TypeError: ``layer`` is neither a string nor a module.
    """
    if isinstance(layer, nn.Module):
        found = [(p, m) for p, m in model.named_modules() if m is layer and m is not model]
        if not found:
            raise invalid_value(
                f"{who}: the given layer is not part of the model.",
                received={"layer": getattr(layer, "name", type(layer).__name__)},
            )
        return found[0]
    if not isinstance(layer, str):
        raise invalid_type(
            f"{who}: a layer is given by its name (str) or as the layer object.",
            received={"layer": layer},
        )
    for path, module in model.named_modules():
        if module is not model and layer in (path, getattr(module, "name", None)):
            return path, module
    if choices is None:
        choices = [layer_name(model, p, m) for p, m in model.named_modules() if p]
    raise unknown_name(
        f"layer in model '{getattr(model, 'name', type(model).__name__)}'",
        layer,
        choices,
        argument=argument,
    )


def resolve_layer(view: ModelView, layer: Any, who: str) -> tuple[str, nn.Module]:
    """``(name, module)`` of the layer to read the map from, checked to have a spatial output.

    Raises:
        ValueError: unknown name (with close matches), a layer the forward pass does
            not run, one without a spatial output, or a model with no spatial layer.
        TypeError: ``layer`` is neither None, a string nor a module.
    """
    model = view.model
    if layer is None:
        for path, module, shape in reversed(view.calls):
            if _spatial(shape):
                return layer_name(model, path, module), module
        raise invalid_value(
            f"{who}: the model has no layer with a spatial output (N, h, w, c), "
            "so there is nothing to draw a class activation map from.",
            received={"layer": None},
        )
    path, module = find_module(model, layer, who, _names(view))
    shapes = [shape for _, m, shape in view.calls if m is module]
    name = layer_name(model, path, module)
    if not shapes:
        raise invalid_value(
            f"{who}: layer {name!r} does not run in the model's forward pass.",
            received={"layer": layer},
        )
    if not _spatial(shapes[0]):
        raise invalid_value(
            f"{who}: layer {name!r} has no spatial output, so no map can be read from it.",
            expected="a layer whose output is (N, h, w, c) with h*w > 1",
            received={"layer": layer, "output shape (N, C, h, w)": shapes[0]},
            hint="Layers with a spatial output, last ones first: "
            + ", ".join(repr(n) for n, _ in reversed(_spatial_names(view)[-8:]))
            + ".",
        )
    return name, module


def _spatial_names(view: ModelView) -> list[tuple[str, tuple[int, ...]]]:
    out: dict[str, tuple[int, ...]] = {}
    for path, module, shape in view.calls:
        if _spatial(shape):
            out.setdefault(layer_name(view.model, path, module), shape)
    return list(out.items())


def find_cam_layer(model: Any, images: Any, *, data_format: str | None = None) -> str:
    """The name of the layer :func:`cam` reads with ``layer=None``.

    Args:
        model: A cnnkit model or ``torch.nn.Module``.
        images: A batch like the model's input (one image is enough; only its
            shape matters), ``(N, H, W, C)`` for cnnkit models.
        data_format: Input layout; default channels-last for cnnkit models,
            channels-first for other modules.

    Returns:
        The layer's Keras name where unique (e.g. ``"conv2d_1"``), else its module
        path (e.g. ``"layer4"`` for a zoo ResNet).

    Raises:
        ValueError: no layer of the model has a spatial output.
    """
    view, _ = prepare(model, images, data_format, "find_cam_layer")
    return resolve_layer(view, None, "find_cam_layer")[0]
