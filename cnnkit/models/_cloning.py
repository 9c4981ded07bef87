"""``clone_model`` and ``model_from_json``: architecture without weights.

Both, like ``model.to_json()``, go through the same JSON config as ``save()``
(``serialize_layer``) and the same safe class lookup on the way back, so a JSON
string from a stranger can only build cnnkit classes (or ones you registered);
nothing is ever unpickled.
"""

from __future__ import annotations

import json
from typing import Any

from cnnkit._errors import invalid_type, invalid_value
from cnnkit.models._model import Model, check_has_config
from cnnkit.models._serialization import deserialize_layer, serialize_layer

__all__ = ["clone_model", "model_from_json"]


def _as_model(entry: Any, custom_objects: dict[str, type] | None, source: str) -> Model:
    model = deserialize_layer(entry, custom_objects)
    if not isinstance(model, Model):
        raise invalid_value(
            f"{source} describes a layer, not a model.",
            received={"class_name": type(model).__name__},
        )
    return model


def clone_model(model: Model, custom_objects: dict[str, type] | None = None) -> Model:
    """A new model with the same architecture and freshly initialised weights (Keras).

    The copy is rebuilt from ``model``'s config, so it shares no layer or tensor with
    it; layer names are kept. Copy the weights too with
    ``clone.set_weights(model.get_weights())``.

    Args:
        model: A ``Sequential``, functional ``Model``, or subclassed model with ``get_config``.
        custom_objects: ``{"ClassName": cls}`` for your own layer classes.
    """
    check_has_config(model, "be cloned")
    return _as_model(serialize_layer(model), custom_objects, f"The config of '{model.name}'")


def model_from_json(json_string: str, custom_objects: dict[str, type] | None = None) -> Model:
    """Rebuild a model (fresh weights) from :meth:`Model.to_json` output.

    Raises:
        TypeError: ``json_string`` is not a string.
        ValueError: not JSON, not a model config, or an unknown/untrusted class.
    """
    if not isinstance(json_string, (str, bytes)):
        raise invalid_type("model_from_json expects a JSON string.",
                           received={"json_string": type(json_string).__name__})  # fmt: skip
    try:
        entry = json.loads(json_string)
    except ValueError as err:
        raise invalid_value(f"model_from_json: the text is not valid JSON ({err}).",
                            received={"json_string": str(json_string)[:60]}) from err  # fmt: skip
    return _as_model(entry, custom_objects, "The JSON")
