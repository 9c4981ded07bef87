"""Layer and model configs <-> objects, with a safe class lookup.

A serialised layer is ``{"class_name": ..., "module": ..., "config": {...}}``.
Loading resolves ``class_name`` in this order, and never otherwise:

1. ``custom_objects={"Name": cls}`` passed to the loader;
2. classes registered with :func:`register_serializable`;
3. the built-in table: every layer class exported by ``cnnkit.layers`` plus
   ``Sequential``/``Functional`` (only if the recorded module is a cnnkit one);
4. a ``module`` + ``class_name`` pair, honoured **only** for modules inside the
   ``cnnkit`` package (subclassed zoo models); the module is imported with
   ``importlib`` and the attribute must be a ``Layer`` subclass.

No pickle, no ``eval``, no import of anything outside cnnkit: a config naming
``os.system`` is refused before anything runs.
"""

from __future__ import annotations

import importlib
import inspect
import json
from collections.abc import Callable
from typing import Any

import cnnkit.layers as layers_pkg
from cnnkit._errors import close_matches, invalid_type, invalid_value
from cnnkit.layers import Layer

__all__ = [
    "builtin_classes",
    "deserialize_layer",
    "register_serializable",
    "registered_classes",
    "serialize_layer",
]

_REGISTERED: dict[str, type] = {}


def register_serializable(cls: type | None = None, *, name: str | None = None) -> Any:
    """Make a custom layer or model class loadable by :func:`load_model`.

    Use as ``register_serializable(MyLayer)`` or as a decorator
    ``@register_serializable()`` / ``@register_serializable(name="MyLayer")``.

    Args:
        cls: A :class:`~cnnkit.layers.Layer` subclass (models included).
        name: Name stored in saved files; the class name by default.

    Returns:
        ``cls`` (so it works as a decorator), or a decorator when ``cls`` is None.
    """

    def register(klass: type) -> type:
        if not (isinstance(klass, type) and issubclass(klass, Layer)):
            raise invalid_type(
                "register_serializable expects a cnnkit Layer or Model subclass.",
                received={"cls": klass},
            )
        _REGISTERED[name or klass.__name__] = klass
        return klass

    return register if cls is None else register(cls)


def registered_classes() -> dict[str, type]:
    """A copy of the user-registered classes, by saved name."""
    return dict(_REGISTERED)


def _model_classes() -> list[type]:
    """The model classes defined in ``cnnkit.models`` (``Model``, ``Sequential``, ``Functional``).

    Found through the class hierarchy (every model is a ``Layer`` subclass), so
    this module imports none of the modules that define them: those import it.
    """
    found, stack = [], [Layer]
    while stack:
        for sub in stack.pop().__subclasses__():
            stack.append(sub)
            if sub.__module__.startswith(__name__.rsplit(".", 1)[0] + "."):
                found.append(sub)
    return found


def builtin_classes() -> dict[str, type]:
    """cnnkit's own serialisable classes: ``cnnkit.layers.__all__`` layers and the models."""
    table: dict[str, type] = {}
    for public in layers_pkg.__all__:
        obj = getattr(layers_pkg, public)
        if isinstance(obj, type) and issubclass(obj, Layer):
            table[obj.__name__] = obj
    table.update({cls.__name__: cls for cls in _model_classes()})
    return table


def _in_cnnkit(module: Any) -> bool:
    return isinstance(module, str) and (module == "cnnkit" or module.startswith("cnnkit."))


def serialize_layer(layer: Layer) -> dict[str, Any]:
    """``{"class_name", "module", "config"}`` of a layer or nested model (JSON-checked)."""
    if not isinstance(layer, Layer):
        raise invalid_type(
            "Only cnnkit layers and models can be serialised.",
            received={"layer": type(layer).__name__},
        )
    cls = type(layer)
    saved_name = next((k for k, v in _REGISTERED.items() if v is cls), cls.__name__)
    config = layer.get_config()
    try:
        json.dumps(config)
    except (TypeError, ValueError) as err:
        raise invalid_type(
            f"Layer '{layer.name}' ({cls.__name__}): get_config() is not JSON-serialisable "
            f"({err}).",
            received={"config": config},
            hint="get_config() must return plain numbers, strings, lists and dicts.",
        ) from err
    return {"class_name": saved_name, "module": cls.__module__, "config": config}


def _resolve(entry: dict[str, Any], custom_objects: dict[str, type] | None) -> type:
    name, module = entry["class_name"], entry.get("module")
    if custom_objects and name in custom_objects:
        return custom_objects[name]
    if name in _REGISTERED:
        return _REGISTERED[name]
    builtin = builtin_classes()
    if name in builtin and (module is None or _in_cnnkit(module)):
        return builtin[name]
    if _in_cnnkit(module):
        try:
            obj = getattr(importlib.import_module(module), name, None)
        except ImportError:
            obj = None
        if isinstance(obj, type) and issubclass(obj, Layer):
            return obj
    known = sorted(set(builtin) | set(_REGISTERED) | set(custom_objects or {}))
    matches = close_matches(str(name), known)
    where = f" from module {module!r}" if module else ""
    raise invalid_value(
        f"Unknown layer class {name!r}{where} in the model config; refusing to import it.",
        received={"class_name": name, "module": module},
        suggestion=", ".join(repr(m) for m in matches) if matches else None,
        hint="Only cnnkit classes load by name. For your own classes call "
        "cnnkit.models.register_serializable(YourClass) before loading, or pass "
        "custom_objects={'YourClass': YourClass}.",
    )


def deserialize_layer(entry: Any, custom_objects: dict[str, type] | None = None) -> Layer:
    """Rebuild a layer or model from :func:`serialize_layer` output.

    Raises:
        ValueError: malformed entry, unknown/untrusted class, or a config the class
            rejects.
    """
    if (
        not isinstance(entry, dict)
        or not isinstance(entry.get("class_name"), str)
        or not isinstance(entry.get("config", {}), dict)
    ):
        raise invalid_value(
            "Malformed layer entry in the model config.",
            expected='{"class_name": str, "module": str, "config": dict}',
            received={"entry": entry},
        )
    cls = _resolve(entry, custom_objects)
    config = dict(entry.get("config", {}))
    from_config: Callable[..., Layer] = cls.from_config
    try:
        if _takes_custom_objects(cls):
            return from_config(config, custom_objects=custom_objects)
        return from_config(config)
    except TypeError as err:
        raise invalid_value(
            f"Cannot rebuild {entry['class_name']} from its saved config: {err}",
            received={"config": config},
        ) from err


def _takes_custom_objects(cls: type) -> bool:
    # Models rebuild nested layers and take the same table; plain layers do not.
    try:
        return "custom_objects" in inspect.signature(cls.from_config).parameters
    except (TypeError, ValueError):
        return False
