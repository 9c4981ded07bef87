"""``compile(...)`` arguments <-> JSON, so ``load_model`` can re-compile; never pickle.

Plain data (``"adam"``, ``["accuracy"]``, numbers) is stored as it is. A cnnkit
optimizer, loss or metric *object* (``Adam(1e-4)``, ``SparseCategoricalCrossentropy(
from_logits=True)``) is stored as ``{"__cnnkit__": kind, "class_name": ..., "config":
{...}}`` and rebuilt on load from the training package's public classes only
(``cnnkit.training.optimizers``/``losses``/``metrics``): nothing outside those
tables is ever constructed from a file.

The training classes have no ``get_config``; their config is read from their
public constructor arguments, which they keep as attributes of the same name,
with the few renamed ones in :data:`_RENAMED` (e.g. Adam keeps ``beta_1`` and
``beta_2`` as ``betas``). A class that grows a ``get_config()`` is used as is.
Anything that cannot be described this way (a ready ``torch.optim`` object, a
Python callable) makes the whole compile state unsaved, as Keras 2 did.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable
from types import ModuleType
from typing import Any

from cnnkit._errors import invalid_value, unknown_name
from cnnkit.training import losses, metrics, optimizers

__all__ = ["decode_compile_config", "encode_compile_config"]

_MARK = "__cnnkit__"

#: kind -> (public module of the training package, name of its base class).
_KINDS: dict[str, tuple[ModuleType, str]] = {
    "optimizer": (optimizers, "Optimizer"),
    "loss": (losses, "Loss"),
    "metric": (metrics, "Metric"),
}

#: Constructor arguments stored under another attribute name: argument -> reader.
_RENAMED: dict[str, Callable[[Any], Any]] = {
    "beta_1": lambda obj: obj.betas[0],
    "beta_2": lambda obj: obj.betas[1],
    "thresholds": lambda obj: obj.threshold,
}


class _Unencodable(Exception):
    """An argument that cannot be written as JSON (the compile state is then not saved)."""


def _classes(kind: str) -> dict[str, type]:
    module, base_name = _KINDS[kind]
    base = getattr(module, base_name)
    table = {}
    for public in module.__all__:
        obj = getattr(module, public)
        if isinstance(obj, type) and issubclass(obj, base) and obj is not base:
            table[public] = obj
    return table


def _kind_of(obj: Any) -> str | None:
    for kind, (module, base_name) in _KINDS.items():
        base = getattr(module, base_name)
        if isinstance(obj, base):
            return kind
    return None


def _constructor_arguments(cls: type) -> list[str]:
    names: list[str] = []
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is None or klass is object:
            continue
        for p in inspect.signature(init).parameters.values():
            variadic = p.kind in (p.VAR_KEYWORD, p.VAR_POSITIONAL)
            if p.name != "self" and not variadic and p.name not in names:
                names.append(p.name)
    return names


def _object_config(obj: Any) -> dict[str, Any]:
    get_config = getattr(obj, "get_config", None)
    if callable(get_config):
        return dict(get_config())
    config: dict[str, Any] = {}
    for arg in _constructor_arguments(type(obj)):
        if arg in _RENAMED:
            try:
                config[arg] = _RENAMED[arg](obj)
            except AttributeError:
                continue
        elif arg in obj.__dict__:
            config[arg] = obj.__dict__[arg]
    return config


def _encode(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [_encode(v) for v in value]
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {k: _encode(v) for k, v in value.items()}
    kind = _kind_of(value)
    if kind is None or type(value).__name__ not in _classes(kind):
        raise _Unencodable(type(value).__name__)
    config = _object_config(value)
    try:
        json.dumps(config)
    except (TypeError, ValueError) as err:
        raise _Unencodable(type(value).__name__) from err
    return {_MARK: kind, "class_name": type(value).__name__, "config": config}


def encode_compile_config(arguments: dict[str, Any]) -> dict[str, Any] | None:
    """JSON-ready ``compile`` arguments, or None when one of them cannot be described.

    Args:
        arguments: ``{"optimizer": ..., "loss": ..., "metrics": ..., **kwargs}``.
    """
    try:
        return {key: _encode(value) for key, value in arguments.items()}
    except _Unencodable:
        return None


def _decode(value: Any) -> Any:
    if isinstance(value, list):
        return [_decode(v) for v in value]
    if not isinstance(value, dict):
        return value
    if _MARK not in value:
        return {k: _decode(v) for k, v in value.items()}
    kind, name, config = value.get(_MARK), value.get("class_name"), value.get("config", {})
    if kind not in _KINDS or not isinstance(config, dict):
        raise invalid_value(
            "Corrupted compile config in the model file: unknown object kind.",
            expected=f"one of {sorted(_KINDS)} with a dict config",
            received={"kind": kind},
        )
    classes = _classes(kind)
    if name not in classes:
        raise unknown_name(f"{kind} class in the saved compile config", name, classes,
                           argument="class_name")  # fmt: skip
    try:
        return classes[name](**config)
    except TypeError as err:
        raise invalid_value(
            f"Cannot rebuild the saved {kind} {name} from its config: {err}",
            received={"config": config},
        ) from err


def decode_compile_config(config: Any) -> dict[str, Any]:
    """``compile`` keyword arguments from :func:`encode_compile_config` output.

    Raises:
        ValueError: not a dict, or an object of an unknown class (close matches listed).
    """
    if not isinstance(config, dict):
        raise invalid_value(
            "Corrupted compile config in the model file: expected a JSON object.",
            received={"compile_config": type(config).__name__},
        )
    return {key: _decode(value) for key, value in config.items()}
