"""Which of Keras' call flags (``training``, ``mask``) a layer's ``call`` accepts.

Keras passes ``training`` (and ``mask``) to ``call`` only when its signature
names them or takes ``**kwargs``, so course code writes custom layers as
``def call(self, inputs):``. cnnkit does the same: the signature is read once
per ``call`` function (cached), so the hot path pays one dictionary lookup.

A ``training`` left as None is resolved to the module's own mode (``fit`` puts
the model in ``train()``, ``evaluate``/``predict`` in ``eval()``), so a course
layer's ``if training:`` branch runs in ``fit`` as under Keras, which passes
``training=True`` there. Masks are never passed: cnnkit has no masking layers.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

__all__ = ["accepts_training", "call_with_flags"]


@functools.cache
def _accepts_training(call: Callable[..., Any]) -> bool:
    try:
        params = inspect.signature(call).parameters.values()
    except (TypeError, ValueError):  # a builtin without a signature: assume Keras' full form
        return True
    return any(p.name == "training" or p.kind is inspect.Parameter.VAR_KEYWORD for p in params)


def accepts_training(layer: Any) -> bool:
    """Whether ``type(layer).call`` takes a ``training`` argument (or ``**kwargs``)."""
    return _accepts_training(type(layer).call)


def call_with_flags(layer: Any, inputs: Any, training: bool | None) -> Any:
    """``layer.call(inputs, training=training)``, leaving ``training`` out where not accepted.

    Args:
        layer: A cnnkit ``Layer`` or ``Model`` (anything with a ``call`` method).
        inputs: The Keras-layout tensor(s) to pass on.
        training: Keras' flag; None becomes ``layer.training`` (the module's mode).

    Returns:
        What ``call`` returns.
    """
    if accepts_training(layer):
        if training is None:
            training = getattr(layer, "training", None)
        return layer.call(inputs, training=training)
    return layer.call(inputs)
