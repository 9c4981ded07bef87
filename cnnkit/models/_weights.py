"""Model-level ``get_weights``/``set_weights``: the layers' Keras-layout lists, concatenated.

A *weight unit* is any module that owns weights directly (``recurse=False``):
a cnnkit layer (which converts to Keras layout itself) or, for PyTorch users
who mix in plain ``torch.nn`` modules, a plain module (its parameters and
floating buffers, as stored). Units are visited in registration order, which
is layer order for Sequential and functional models (layers are registered in
topological order) and attribute order for subclassed models.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import torch
from torch import nn

from cnnkit._errors import invalid_type, invalid_value
from cnnkit.layers import Layer

__all__ = ["get_model_weights", "set_model_weights", "weight_units"]


def _own_state(module: nn.Module) -> dict[str, torch.Tensor]:
    return dict(module.named_parameters(recurse=False)) | dict(module.named_buffers(recurse=False))


def _unit_names(module: nn.Module) -> list[str]:
    if isinstance(module, Layer):
        return module.keras_weight_names()
    names = [n for n, _ in module.named_parameters(recurse=False)]
    return names + [n for n, b in module.named_buffers(recurse=False) if b.is_floating_point()]


def weight_units(root: nn.Module) -> Iterator[nn.Module]:
    """Modules that own weights directly, depth first in registration order, each once."""
    seen: set[int] = set()
    stack = [root]
    while stack:
        module = stack.pop()
        if id(module) in seen:
            continue
        seen.add(id(module))
        if _unit_names(module):
            yield module
        stack.extend(reversed(list(module.children())))


def _to_keras(module: nn.Module, name: str, array: np.ndarray) -> np.ndarray:
    return module.to_keras_layout(name, array) if isinstance(module, Layer) else array


def _from_keras(module: nn.Module, name: str, array: np.ndarray) -> np.ndarray:
    return module.from_keras_layout(name, array) if isinstance(module, Layer) else array


def get_model_weights(root: nn.Module) -> list[np.ndarray]:
    """All weights as NumPy arrays in Keras order and layout (kernel HWIO, Dense (in, out))."""
    out: list[np.ndarray] = []
    for unit in weight_units(root):
        state = _own_state(unit)
        for name in _unit_names(unit):
            out.append(_to_keras(unit, name, state[name].detach().cpu().numpy().copy()))
    return out


def _unit_label(unit: nn.Module) -> str:
    return f"layer '{unit.name}'" if isinstance(unit, Layer) else f"module {type(unit).__name__}"


def set_model_weights(root: nn.Module, weights: Sequence[np.ndarray], model_name: str) -> None:
    """Set every weight from Keras-layout arrays; all shapes are checked before any is written.

    Raises:
        TypeError: ``weights`` is not a list of arrays.
        ValueError: wrong number of arrays, or the first array whose shape does not
            match, naming its layer and weight with expected vs received shape.
    """
    if isinstance(weights, (np.ndarray, torch.Tensor)) or not isinstance(weights, Sequence):
        raise invalid_type(
            f"Model '{model_name}': set_weights expects a list of arrays, like get_weights() "
            "returns.",
            received={"weights": type(weights).__name__},
        )
    slots = [
        (unit, name, _own_state(unit)[name])
        for unit in weight_units(root)
        for name in _unit_names(unit)
    ]
    if len(weights) != len(slots):
        raise invalid_value(
            f"Model '{model_name}': set_weights got {len(weights)} arrays but the model has "
            f"{len(slots)} weights.",
            expected=f"a list of {len(slots)} arrays in get_weights() order",
            received={"len(weights)": len(weights)},
        )
    converted = []
    for i, ((unit, name, target), given) in enumerate(zip(slots, weights, strict=True)):
        given = np.asarray(given)
        arr = _from_keras(unit, name, given)
        if tuple(arr.shape) != tuple(target.shape):
            expected = _to_keras(unit, name, np.empty(tuple(target.shape), np.float32)).shape
            raise invalid_value(
                f"Model '{model_name}': array {i} for {_unit_label(unit)}, weight '{name}', "
                "has the wrong shape.",
                expected=f"shape {tuple(expected)}",
                received={f"weights[{i}].shape": tuple(given.shape)},
            )
        converted.append(arr)
    with torch.no_grad():
        for (_, _, target), arr in zip(slots, converted, strict=True):
            target.copy_(torch.as_tensor(np.array(arr, order="C"), dtype=target.dtype))
