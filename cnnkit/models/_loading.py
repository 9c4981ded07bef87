"""``load_model``: rebuild a model from one ``.cnnkit`` file (architecture, weights, compile).

The file layout and the writers are in ``_saving.py``; loading sits above
``Model`` because it checks that the file describes one.
"""

from __future__ import annotations

from typing import Any

from cnnkit._errors import invalid_value
from cnnkit.models._compile_config import decode_compile_config
from cnnkit.models._files import as_path, read_safetensors
from cnnkit.models._model import Model
from cnnkit.models._saving import (
    FORMAT,
    FORMAT_VERSION,
    WEIGHTS_FORMAT,
    json_field,
    load_state,
    tensor_order,
)
from cnnkit.models._serialization import deserialize_layer

__all__ = ["load_model"]


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
    entry = json_field(metadata, "config", path)
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
        shape = json_field(metadata, "build_input_shape", path)
        if shape is not None:
            model.build(shape)
    load_state(model, tensors, f"Model file '{path}'", strict=True, order=tensor_order(metadata))
    if compile and "compile_config" in metadata:
        model.compile(**decode_compile_config(json_field(metadata, "compile_config", path)))
    return model
