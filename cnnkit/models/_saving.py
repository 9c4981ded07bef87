"""Save and load models as ONE safetensors file; never pickle, always atomic.

File layout (``.cnnkit``, a plain safetensors file):

* tensors: the model's ``state_dict()`` (parameters and buffers, torch layout);
* ``__metadata__`` (safetensors allows str -> str only):
  ``format="cnnkit"``, ``format_version="1"``, ``config`` = the JSON architecture
  (``serialize_layer(model)``), ``build_input_shape`` (JSON), and
  ``compile_config`` (JSON) when the model was compiled with names or cnnkit
  optimizer/loss/metric objects (``_compile_config``: class name + constructor
  arguments, rebuilt from the training package's own classes only).

Loading validates the file first (``_files.read_safetensors``), and the class
lookup in ``_serialization`` refuses anything outside cnnkit. No code from the
file ever runs.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import save_file

from cnnkit._errors import invalid_value
from cnnkit._io import atomic_write
from cnnkit.models._files import as_path, read_safetensors
from cnnkit.models._serialization import serialize_layer

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "WEIGHTS_FORMAT",
    "json_field",
    "load_state",
    "load_weights",
    "save_model",
    "save_weights",
    "tensor_order",
]

FORMAT = "cnnkit"
WEIGHTS_FORMAT = "cnnkit-weights"
FORMAT_VERSION = 1


def _state_tensors(model: Any) -> dict[str, torch.Tensor]:
    tensors: dict[str, torch.Tensor] = {}
    storages: set[int] = set()
    for key, value in model.state_dict().items():
        t = value.detach().cpu().contiguous()
        # safetensors refuses aliased storage (a module registered twice): store a copy.
        ptr = t.untyped_storage().data_ptr()
        if ptr in storages and t.numel():
            t = t.clone()
        storages.add(ptr)
        tensors[key] = t
    return tensors


def save_model(model: Any, filepath: Any) -> None:
    """Write architecture + weights of ``model`` to one safetensors file, atomically."""
    path = as_path(filepath)
    model._require_built("save")
    metadata = {
        "format": FORMAT,
        "format_version": str(FORMAT_VERSION),
        "config": json.dumps(serialize_layer(model)),
        "build_input_shape": json.dumps(model._known_input_shape()),
    }
    compile_config = model.__dict__.get("_compile_config")
    if compile_config is not None:
        metadata["compile_config"] = json.dumps(compile_config)
    tensors = _state_tensors(model)
    metadata["tensor_order"] = json.dumps(list(tensors))
    atomic_write(path, lambda tmp: save_file(tensors, tmp, metadata=metadata))


def save_weights(model: Any, filepath: Any) -> None:
    """Write ``model.state_dict()`` to a safetensors file, atomically."""
    path = as_path(filepath)
    model._require_built("save the weights of")
    tensors = _state_tensors(model)
    metadata = {
        "format": WEIGHTS_FORMAT,
        "format_version": str(FORMAT_VERSION),
        "tensor_order": json.dumps(list(tensors)),
    }
    atomic_write(path, lambda tmp: save_file(tensors, tmp, metadata=metadata))


def json_field(metadata: dict[str, str], key: str, path: Path) -> Any:
    try:
        return json.loads(metadata[key])
    except (KeyError, TypeError, ValueError) as err:
        raise invalid_value(
            f"Cannot load '{path}': the `{key}` entry of the model file is missing or corrupted.",
            received={key: metadata.get(key)},
        ) from err


def _by_position(
    expected: dict[str, torch.Tensor], tensors: dict[str, torch.Tensor], order: Any
) -> dict[str, str] | None:
    """``{model key: file key}`` pairing tensors by order when the names differ.

    Keras matches weights by layer order, so a freshly built copy of a model
    (whose automatic names are ``conv2d_1``... instead of ``conv2d``...) still
    loads the weights of the original. Only used when the file records its order
    and holds exactly as many tensors as the model.
    """
    if set(tensors) == set(expected) or not isinstance(order, list):
        return None
    if len(order) != len(expected) or set(order) != set(tensors):
        return None
    return dict(zip(expected, order, strict=True))


def load_state(
    model: Any,
    tensors: dict[str, torch.Tensor],
    source: str,
    strict: bool,
    order: Any = None,
) -> None:
    """Copy ``tensors`` into ``model``; the first missing/mis-shaped tensor is named.

    Tensors are matched by state-dict key, or by position (see :func:`_by_position`).
    """
    expected = model.state_dict()
    pairing = _by_position(expected, tensors, order)
    if pairing is not None:
        tensors = {key: tensors[file_key] for key, file_key in pairing.items()}
    for key, target in expected.items():
        if key not in tensors:
            if strict:
                raise invalid_value(
                    f"{source} has no tensor '{key}' (the model expects shape "
                    f"{tuple(target.shape)}).",
                    received={"missing": key},
                )
            continue
        found = tensors[key]
        if tuple(found.shape) != tuple(target.shape):
            where = f" (matched by position to '{pairing[key]}')" if pairing else ""
            raise invalid_value(
                f"{source}: tensor '{key}'{where} has the wrong shape for this model.",
                expected=f"shape {tuple(target.shape)}",
                received={f"{key}.shape": tuple(found.shape)},
            )
    listed = order if isinstance(order, list) and set(order) == set(tensors) else list(tensors)
    extra = [k for k in listed if k not in expected]
    if extra and strict:
        raise invalid_value(
            f"{source} has tensors the model does not have, starting with '{extra[0]}'.",
            received={"unexpected": extra[:5]},
        )
    state = {k: tensors[k].to(expected[k].dtype) for k in expected if k in tensors}
    with torch.no_grad():
        model.load_state_dict(state, strict=False)


def load_weights(model: Any, filepath: Any, strict: bool = True) -> None:
    """Load a :func:`save_weights` (or :func:`save_model`) file into ``model``."""
    path = as_path(filepath)
    metadata, tensors = read_safetensors(path)
    model._require_built("load weights into")
    load_state(
        model, tensors, f"Weights file '{path}'", strict=strict, order=tensor_order(metadata)
    )


def tensor_order(metadata: dict[str, str]) -> Any:
    try:
        return json.loads(metadata.get("tensor_order", "null"))
    except ValueError:
        return None
