"""``Lambda``: wrap a Python function as a layer (in memory only; never saved to a file)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from cnnkit._errors import invalid_type, invalid_value
from cnnkit.layers._base import Layer

__all__ = ["Lambda"]


class Lambda(Layer):
    """``function(inputs, **arguments)`` as a layer, e.g. ``Lambda(lambda x: x / 255.0)``.

    The function works on Keras-layout torch tensors and must be vectorised over the
    batch. A model containing a Lambda trains, predicts and summarises as usual, but
    cannot be written with ``save()``/``to_json()``: cnnkit never pickles code.

    Args:
        function: Callable on a tensor (or list of tensors).
        output_shape: Output shape without the batch axis, or a callable
            ``input_shape -> output_shape`` (full shapes); by default found by running
            ``function`` on a zero batch of one sample.
        mask: Accepted for Keras compatibility and ignored (cnnkit has no masking).
        arguments: Extra keyword arguments for ``function``.
    """

    def __init__(
        self,
        function: Callable[..., Any],
        output_shape: Any = None,
        mask: Any = None,
        arguments: dict[str, Any] | None = None,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        if not callable(function):
            raise invalid_type(f"Lambda '{self.name}': `function` must be callable.",
                               received={"function": function})  # fmt: skip
        self.function = function
        self._output_shape = output_shape
        self.arguments = dict(arguments or {})
        self.build_from_config_shape()

    def call(self, inputs: Any, training: bool | None = None) -> Any:
        return self.function(inputs, **self.arguments)

    def compute_output_shape(self, input_shape: Any) -> Any:
        if callable(self._output_shape):
            return tuple(self._output_shape(input_shape))
        if self._output_shape is not None:
            batch = input_shape[0][0] if isinstance(input_shape, list) else input_shape[0]
            return (batch, *tuple(self._output_shape))
        shapes = input_shape if isinstance(input_shape, list) else [input_shape]
        if any(v is None for s in shapes for v in s[1:]):
            raise invalid_value(
                f"Lambda '{self.name}': cannot infer the output shape of an input with "
                "unknown sizes.",
                received={"input_shape": input_shape},
                hint="Pass output_shape=(...) (without the batch axis).",
            )
        zeros = [torch.zeros((1, *s[1:])) for s in shapes]
        with torch.no_grad():
            out = self.function(zeros if isinstance(input_shape, list) else zeros[0],
                                **self.arguments)  # fmt: skip
        if isinstance(out, (list, tuple)):
            return [(None, *o.shape[1:]) for o in out]
        return (None, *out.shape[1:])

    def get_config(self) -> dict[str, Any]:
        raise invalid_value(
            f"Lambda '{self.name}' cannot be serialised: its Python function would have to be "
            "pickled, and cnnkit never pickles code (a model file must not be able to run "
            "anything).",
            received={"function": getattr(self.function, "__name__", repr(self.function))},
            hint="Write a Layer subclass with call() and get_config(), register it with "
            "cnnkit.models.register_serializable(YourLayer), and use it instead of Lambda; "
            "or save only the weights with model.save_weights(path).",
        )
