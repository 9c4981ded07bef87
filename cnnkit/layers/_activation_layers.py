"""Activation layers with arguments: ``Softmax``, ``ELU`` and ``PReLU`` (learned slopes)."""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F

from cnnkit._errors import invalid_type, invalid_value
from cnnkit.layers._base import InputSpec, Layer
from cnnkit.layers._constraints import get_constraint, serialize_constraint
from cnnkit.layers._initializers import get_initializer, serialize_initializer
from cnnkit.layers._regularizers import get_regularizer, serialize_regularizer

__all__ = ["ELU", "PReLU", "Softmax"]


def _axes_argument(value: Any, argument: str, layer: str) -> tuple[int, ...]:
    axes = (value,) if isinstance(value, int) else value
    if (
        not isinstance(axes, (list, tuple))
        or not axes
        or any(isinstance(a, bool) or not isinstance(a, int) for a in axes)
    ):
        raise invalid_type(
            f"{layer}: `{argument}` must be an integer or a non-empty list of integers.",
            received={argument: value},
        )
    return tuple(axes)


class Softmax(Layer):
    """``exp(x) / Σ exp(x)`` along ``axis`` (default -1, the classes); shape unchanged.

    Args:
        axis: Axis, or list of axes, to normalise over.
    """

    def __init__(self, axis: int | list[int] = -1, **kwargs: Any):
        super().__init__(**kwargs)
        self.axis = _axes_argument(axis, "axis", f"Softmax '{self.name}'")
        self.build_from_config_shape()

    def call(self, inputs: torch.Tensor, training: bool | None = None) -> torch.Tensor:
        if len(self.axis) == 1:
            return F.softmax(inputs, dim=self.axis[0])
        # Several axes: subtract the max first, as softmax does, for stability.
        shifted = inputs - inputs.amax(dim=self.axis, keepdim=True)
        e = shifted.exp()
        return e / e.sum(dim=self.axis, keepdim=True)

    def get_config(self) -> dict[str, Any]:
        axis = self.axis[0] if len(self.axis) == 1 else list(self.axis)
        return super().get_config() | {"axis": axis}


class ELU(Layer):
    """``x`` for ``x > 0`` else ``alpha · (exp(x) − 1)``; Keras default ``alpha=1.0``."""

    def __init__(self, alpha: float = 1.0, **kwargs: Any):
        super().__init__(**kwargs)
        if isinstance(alpha, bool) or not isinstance(alpha, (int, float)):
            raise invalid_type(
                f"ELU '{self.name}': `alpha` must be a number.", received={"alpha": alpha}
            )
        self.alpha = float(alpha)
        self.build_from_config_shape()

    def call(self, inputs: torch.Tensor, training: bool | None = None) -> torch.Tensor:
        return F.elu(inputs, self.alpha)

    def get_config(self) -> dict[str, Any]:
        return super().get_config() | {"alpha": self.alpha}


class PReLU(Layer):
    """``x`` for ``x >= 0`` else ``alpha · x`` with a learned ``alpha`` per input element.

    ``alpha`` has the input's shape without the batch axis, with size 1 on
    ``shared_axes``: ``PReLU(shared_axes=[1, 2])`` on ``(batch, H, W, C)`` learns one
    slope per channel (``C`` parameters), like ``torch.nn.PReLU(C)``.

    Args:
        alpha_initializer: Default ``"zeros"`` (starts as ReLU), like Keras.
        alpha_regularizer, alpha_constraint: Optional penalty and projection.
        shared_axes: Axes (batch axis = 0) that share one slope.

    Weights: ``alpha`` in Keras layout, e.g. ``(1, 1, C)``.
    """

    def __init__(
        self,
        alpha_initializer: Any = "zeros",
        alpha_regularizer: Any = None,
        alpha_constraint: Any = None,
        shared_axes: int | list[int] | None = None,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        who = f"PReLU '{self.name}'"
        self.alpha_initializer = get_initializer(alpha_initializer, "alpha_initializer")
        self.alpha_regularizer = get_regularizer(alpha_regularizer, "alpha_regularizer")
        self.alpha_constraint = get_constraint(alpha_constraint, "alpha_constraint")
        self.shared_axes = (
            () if shared_axes is None else _axes_argument(shared_axes, "shared_axes", who)
        )
        if any(a < 1 for a in self.shared_axes):
            raise invalid_value(
                f"{who}: `shared_axes` count the batch axis as 0, so they must be >= 1.",
                received={"shared_axes": shared_axes},
            )
        self.input_spec = InputSpec(min_ndim=2)
        self.build_from_config_shape()

    def build(self, input_shape: tuple) -> None:
        rank = len(input_shape)
        if any(a >= rank for a in self.shared_axes):
            raise invalid_value(
                f"PReLU '{self.name}': a shared axis is not an axis of the input.",
                received={"shared_axes": list(self.shared_axes), "input_shape": input_shape},
            )
        shape = tuple(1 if i in self.shared_axes else v for i, v in enumerate(input_shape))[1:]
        if any(v is None for v in shape):
            raise invalid_value(
                f"PReLU '{self.name}': every axis that is not shared must have a known size.",
                received={"input_shape": input_shape},
                hint="Share the unknown axes, e.g. shared_axes=[1, 2] for images.",
            )
        self.add_weight(
            "alpha", shape, self.alpha_initializer, self.alpha_regularizer, self.alpha_constraint
        )
        self.input_spec.axes = {
            i: v for i, v in enumerate(input_shape) if i > 0 and i not in self.shared_axes
        }

    def call(self, inputs: torch.Tensor, training: bool | None = None) -> torch.Tensor:
        return torch.where(inputs >= 0, inputs, self.alpha * inputs)

    def param_formula(self) -> str | None:
        if not self.built:
            return None
        dims = "×".join(str(v) for v in self.alpha.shape)
        return f"{dims} = {math.prod(self.alpha.shape):,}"

    def macs(self, input_shape: tuple, output_shape: tuple) -> int:
        """One multiply per element."""
        if any(v is None for v in input_shape[1:]):
            return 0
        return math.prod(input_shape[1:])

    def get_config(self) -> dict[str, Any]:
        return super().get_config() | {
            "alpha_initializer": serialize_initializer(self.alpha_initializer),
            "alpha_regularizer": serialize_regularizer(self.alpha_regularizer),
            "alpha_constraint": serialize_constraint(self.alpha_constraint),
            "shared_axes": list(self.shared_axes) or None,
        }
