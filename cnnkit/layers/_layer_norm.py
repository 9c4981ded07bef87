"""``LayerNormalization``: normalise each sample over its feature axes (no batch statistics)."""

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

__all__ = ["LayerNormalization"]


class LayerNormalization(Layer):
    """``γ · (x − mean) / sqrt(var + ε) + β`` with mean and variance over ``axis`` per sample.

    Args:
        axis: Axis or list of axes to normalise over (default -1, the features/channels).
        epsilon: Added to the variance (default 1e-3, as Keras).
        center: Learn β (default True). scale: Learn γ (default True).
        beta_initializer, gamma_initializer: Default ``"zeros"``, ``"ones"``.
        beta_regularizer, gamma_regularizer, beta_constraint, gamma_constraint: Optional.

    Weights: ``weight`` (γ) and ``bias`` (β), shaped like the normalised axes (torch's
    ``nn.LayerNorm`` names, so its state dict loads directly).
    """

    def __init__(
        self,
        axis: int | list[int] = -1,
        epsilon: float = 1e-3,
        center: bool = True,
        scale: bool = True,
        beta_initializer: Any = "zeros",
        gamma_initializer: Any = "ones",
        beta_regularizer: Any = None,
        gamma_regularizer: Any = None,
        beta_constraint: Any = None,
        gamma_constraint: Any = None,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        who = f"LayerNormalization '{self.name}'"
        axes = [axis] if isinstance(axis, int) else axis
        if (
            not isinstance(axes, (list, tuple))
            or not axes
            or any(isinstance(a, bool) or not isinstance(a, int) for a in axes)
        ):
            raise invalid_type(f"{who}: `axis` must be an integer or a list of integers.",
                               received={"axis": axis})  # fmt: skip
        if not epsilon > 0:
            raise invalid_value(f"{who}: `epsilon` must be > 0.", received={"epsilon": epsilon})
        self.axis = list(axes)
        self.epsilon, self.center, self.scale = float(epsilon), bool(center), bool(scale)
        self.beta_initializer = get_initializer(beta_initializer, "beta_initializer")
        self.gamma_initializer = get_initializer(gamma_initializer, "gamma_initializer")
        self.beta_regularizer = get_regularizer(beta_regularizer, "beta_regularizer")
        self.gamma_regularizer = get_regularizer(gamma_regularizer, "gamma_regularizer")
        self.beta_constraint = get_constraint(beta_constraint, "beta_constraint")
        self.gamma_constraint = get_constraint(gamma_constraint, "gamma_constraint")
        self.input_spec = InputSpec(min_ndim=2)
        self._axes: tuple[int, ...] = ()
        self._norm_shape: tuple[int, ...] = ()
        self.build_from_config_shape()

    def build(self, input_shape: tuple) -> None:
        rank = len(input_shape)
        if any(not -rank <= a < rank or a % rank == 0 for a in self.axis):
            raise invalid_value(
                f"LayerNormalization '{self.name}': `axis` is out of range for the input.",
                expected=f"non-batch axes of a rank-{rank} input",
                received={"axis": self.axis, "input_shape": input_shape},
            )
        self._axes = tuple(sorted({a % rank for a in self.axis}))
        shape = tuple(input_shape[a] for a in self._axes)
        self._norm_shape = shape
        if any(v is None for v in shape):
            raise invalid_value(
                f"LayerNormalization '{self.name}': the normalised axes must have known sizes.",
                received={"input_shape": input_shape},
            )
        for name, use, init, reg, con in (
            ("weight", self.scale, self.gamma_initializer, self.gamma_regularizer,
             self.gamma_constraint),
            ("bias", self.center, self.beta_initializer, self.beta_regularizer,
             self.beta_constraint),
        ):  # fmt: skip
            if use:
                self.add_weight(name, shape, init, reg, con)
            else:
                self.register_parameter(name, None)
        self.input_spec.axes = {a: input_shape[a] for a in self._axes}

    def call(self, inputs: torch.Tensor, training: bool | None = None) -> torch.Tensor:
        rank = inputs.ndim
        if self._axes == tuple(range(rank - len(self._axes), rank)):
            # Trailing axes: torch's fused kernel.
            shape = inputs.shape[rank - len(self._axes) :]
            return F.layer_norm(inputs, shape, self.weight, self.bias, self.epsilon)
        var, mean = torch.var_mean(inputs, dim=self._axes, keepdim=True, correction=0)
        y = (inputs - mean) * torch.rsqrt(var + self.epsilon)
        view = [inputs.shape[i] if i in self._axes else 1 for i in range(rank)]
        if self.weight is not None:
            y = y * self.weight.view(view)
        if self.bias is not None:
            y = y + self.bias.view(view)
        return y

    def param_formula(self) -> str | None:
        if not self._axes or not (self.scale or self.center):
            return None
        per = math.prod(self._norm_shape)
        parts = int(self.scale) + int(self.center)
        return f"{parts} × {per:,} = {self.count_params():,}"

    def get_config(self) -> dict[str, Any]:
        return super().get_config() | {
            "axis": self.axis[0] if len(self.axis) == 1 else list(self.axis),
            "epsilon": self.epsilon,
            "center": self.center,
            "scale": self.scale,
            "beta_initializer": serialize_initializer(self.beta_initializer),
            "gamma_initializer": serialize_initializer(self.gamma_initializer),
            "beta_regularizer": serialize_regularizer(self.beta_regularizer),
            "gamma_regularizer": serialize_regularizer(self.gamma_regularizer),
            "beta_constraint": serialize_constraint(self.beta_constraint),
            "gamma_constraint": serialize_constraint(self.gamma_constraint),
        }
