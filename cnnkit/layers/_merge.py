"""Merge layers: ``Add``, ``Multiply`` and ``Concatenate`` (called on a list of tensors)."""

from __future__ import annotations

import math
from typing import Any

import torch

from cnnkit._errors import format_error, invalid_type, invalid_value
from cnnkit.layers._base import Layer

__all__ = ["Add", "Concatenate", "Multiply", "add", "concatenate", "multiply"]


class _Merge(Layer):
    """Checks that the layer gets a list of at least two tensors."""

    def _check_list(self, shapes: Any) -> list[tuple]:
        if not isinstance(shapes, list) or len(shapes) < 2:
            raise invalid_value(
                f"{type(self).__name__} '{self.name}' must be called on a list of at least "
                "2 tensors.",
                received={"inputs": shapes},
            )
        return shapes

    def check_input_shape(self, input_shape: Any) -> None:
        self._check_list(input_shape)
        self.compute_output_shape(input_shape)

    def forward(self, inputs: Any, training: bool | None = None) -> Any:
        if not isinstance(inputs, (list, tuple)):
            raise invalid_type(
                f"{type(self).__name__} '{self.name}' must be called on a list of tensors.",
                received={"inputs": type(inputs).__name__},
            )
        return super().forward(list(inputs), training=training)


class _Elementwise(_Merge):
    """Inputs of one shape in, that shape out."""

    def compute_output_shape(self, input_shape: Any) -> tuple:
        shapes = self._check_list(input_shape)
        first = shapes[0]
        for i, shape in enumerate(shapes[1:], start=1):
            same_rank = len(shape) == len(first)
            if not same_rank or any(
                a is not None and b is not None and a != b
                for a, b in zip(first[1:], shape[1:], strict=False)
            ):
                raise ValueError(
                    format_error(
                        f"{type(self).__name__} '{self.name}': input {i} has shape "
                        f"{tuple(shape)} but input 0 has {tuple(first)}; all inputs must "
                        "have the same shape.",
                        received={"input_shapes": [tuple(s) for s in shapes]},
                        hint="For a residual block whose channels change, project the shortcut "
                        "with a 1×1 Conv2D.",
                    )
                )
        return tuple(
            next((s[i] for s in shapes if s[i] is not None), None) for i in range(len(first))
        )


class Add(_Elementwise):
    """Element-wise sum of tensors of identical shape (residual connections).

    ``[(batch, H, W, C), (batch, H, W, C)]`` -> ``(batch, H, W, C)``.
    """

    def call(self, inputs: list[torch.Tensor], training: bool | None = None) -> torch.Tensor:
        out = inputs[0]
        for t in inputs[1:]:
            out = out + t
        return out


class Multiply(_Elementwise):
    """Element-wise product of tensors of identical shape (gates, attention masks).

    ``[(batch, H, W, C), (batch, H, W, C)]`` -> ``(batch, H, W, C)``.
    """

    def call(self, inputs: list[torch.Tensor], training: bool | None = None) -> torch.Tensor:
        out = inputs[0]
        for t in inputs[1:]:
            out = out * t
        return out

    def macs(self, input_shape: Any, output_shape: Any) -> int:
        """``(inputs − 1)`` multiplies per output value."""
        if any(v is None for v in output_shape[1:]):
            return 0
        return (len(input_shape) - 1) * math.prod(output_shape[1:])


class Concatenate(_Merge):
    """Join tensors along ``axis`` (default -1, the channels of channels-last images).

    Args:
        axis: Axis to join on; every other axis must agree.
    """

    def __init__(self, axis: int = -1, **kwargs: Any):
        super().__init__(**kwargs)
        if isinstance(axis, bool) or not isinstance(axis, int):
            raise invalid_type(
                f"Concatenate '{self.name}': `axis` must be an integer.", received={"axis": axis}
            )
        self.axis = axis
        self.build_from_config_shape()

    def compute_output_shape(self, input_shape: Any) -> tuple:
        shapes = self._check_list(input_shape)
        rank = len(shapes[0])
        if any(len(s) != rank for s in shapes) or not -rank <= self.axis < rank:
            raise invalid_value(
                f"Concatenate '{self.name}': inputs must have the same rank and `axis` must "
                "be one of their axes.",
                received={"axis": self.axis, "input_shapes": [tuple(s) for s in shapes]},
            )
        axis = self.axis % rank
        out = list(shapes[0])
        for i in range(1, rank):
            if i == axis:
                sizes = [s[i] for s in shapes]
                out[i] = None if None in sizes else sum(sizes)
                continue
            known = {s[i] for s in shapes if s[i] is not None}
            if len(known) > 1:
                raise invalid_value(
                    f"Concatenate '{self.name}': all axes except the concatenation axis "
                    f"({self.axis}) must match; axis {i} differs.",
                    received={"input_shapes": [tuple(s) for s in shapes]},
                )
            out[i] = known.pop() if known else None
        return tuple(out)

    def call(self, inputs: list[torch.Tensor], training: bool | None = None) -> torch.Tensor:
        return torch.cat(inputs, dim=self.axis)

    def get_config(self) -> dict[str, Any]:
        return super().get_config() | {"axis": self.axis}


def add(inputs: list[Any], **kwargs: Any) -> Any:
    """Keras' functional shortcut: ``add([a, b])`` is ``Add(**kwargs)([a, b])``."""
    return Add(**kwargs)(inputs)


def concatenate(inputs: list[Any], axis: int = -1, **kwargs: Any) -> Any:
    """Keras' functional shortcut: ``Concatenate(axis, **kwargs)(inputs)``."""
    return Concatenate(axis=axis, **kwargs)(inputs)


def multiply(inputs: list[Any], **kwargs: Any) -> Any:
    """Keras' functional shortcut: ``multiply([a, b])`` is ``Multiply(**kwargs)([a, b])``."""
    return Multiply(**kwargs)(inputs)
