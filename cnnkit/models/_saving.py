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
from cnnkit.models._cloning import check_has_config
from cnnkit.models._compile_config import decode_compile_config
from cnnkit.models._files import as_path, read_safetensors
from cnnkit.models._model import Model
from cnnkit.models._serialization import deserialize_layer, serialize_layer

__all__ = ["load_model", "load_state", "load_weights", "save_model", "save_weights"]

FORMAT = "cnnkit"
WEIGHTS_FORMAT = "cnnkit-weights"
FORMAT_VERSION = 1


def _state_tensors(model: Model) -> dict[str, torch.Tensor]:
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


def save_model(model: Model, filepath: Any) -> None:
    """Write architecture + weights of ``model`` to one safetensors file, atomically."""
    path = as_path(filepath)
    model._require_built("save")
    check_has_config(model, "be saved with save()")
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


def save_weights(model: Model, filepath: Any) -> None:
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


def _json_field(metadata: dict[str, str], key: str, path: Path) -> Any:
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
    model: Model,
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


def load_model(
    filepath: Any, custom_objects: dict[str, type] | None = None, compile: bool = True
) -> Model:
    """Rebuild a model saved with ``model.save(path)``: same outputs, same summary.

    Args:
        filepath: Path of the ``.cnnkit`` file.
        custom_objects: ``{"ClassName": cls}`` for your own layer/model classes.
        compile: Re-compile with the saved optimizer/loss/metrics (names or the configs of
            cnnkit objects such as ``Adam(1e-4)``), when present.

    Raises:
        FileNotFoundError: no such file.
        ValueError: not a cnnkit model file, truncated or corrupted, an unknown or
            untrusted class, or weights that do not fit the architecture.
    """
    path = as_path(filepath)
    metadata, tensors = read_safetensors(path)
    kind = metadata.get("format")
    if kind != FORMAT:
        hint = " It holds weights only: use model.load_weights()." if kind == WEIGHTS_FORMAT else ""
        raise invalid_value(
            f"Cannot load '{path}': not a cnnkit model file.{hint}",
            expected=f"metadata format={FORMAT!r}",
            received={"format": kind},
        )
    version = metadata.get("format_version", "")
    if not version.isdigit() or int(version) > FORMAT_VERSION:
        raise invalid_value(
            f"Cannot load '{path}': unsupported file format version.",
            expected=f"version <= {FORMAT_VERSION}",
            received={"format_version": version},
            hint="Upgrade cnnkit to load files written by a newer version.",
        )
    entry = _json_field(metadata, "config", path)
    try:
        model = deserialize_layer(entry, custom_objects)
    except (TypeError, KeyError, AttributeError, IndexError) as err:
        raise invalid_value(
            f"Cannot load '{path}': the architecture config is corrupted ({err}).",
            received={"class_name": entry.get("class_name") if isinstance(entry, dict) else None},
        ) from err
    if not isinstance(model, Model):
        raise invalid_value(
            f"Cannot load '{path}': the file describes a layer, not a model.",
            received={"class_name": type(model).__name__},
        )
    if not model.built:
        shape = _json_field(metadata, "build_input_shape", path)
        if shape is not None:
            model.build(shape)
    load_state(model, tensors, f"Model file '{path}'", strict=True, order=_order(metadata))
    if compile and "compile_config" in metadata:
        model.compile(**decode_compile_config(_json_field(metadata, "compile_config", path)))
    return model


def load_weights(model: Model, filepath: Any, strict: bool = True) -> None:
    """Load a :func:`save_weights` (or :func:`save_model`) file into ``model``."""
    path = as_path(filepath)
    metadata, tensors = read_safetensors(path)
    model._require_built("load weights into")
    load_state(model, tensors, f"Weights file '{path}'", strict=strict, order=_order(metadata))


def _order(metadata: dict[str, str]) -> Any:
    try:
        return json.loads(metadata.get("tensor_order", "null"))
    except ValueError:
        return None
