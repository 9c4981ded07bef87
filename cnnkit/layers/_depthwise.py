"""Depthwise and depthwise-separable 2-D convolutions.

``DepthwiseConv2D`` is a grouped convolution with ``groups = in_channels``;
its weight is stored as torch's ``(C·m, 1, kh, kw)`` and shown in Keras'
``(kh, kw, C, m)``, where output channel ``c·m + j`` is input channel ``c``
filtered by its ``j``-th kernel in both libraries.
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F

from cnnkit.layers._args import positive_int
from cnnkit.layers._constraints import get_constraint, serialize_constraint
from cnnkit.layers._conv import ConvBase
from cnnkit.layers._initializers import get_initializer, serialize_initializer
from cnnkit.layers._regularizers import get_regularizer, serialize_regularizer
from cnnkit.layers._spatial import channel_axis, spatial_of
from cnnkit.layers._weights import Array, permute

__all__ = ["DepthwiseConv2D", "SeparableConv2D"]


def _depthwise_to_keras(array: Array, multiplier: int) -> Array:
    # torch (C·m, 1, kh, kw) -> (C, m, kh, kw) -> Keras (kh, kw, C, m)
    cm, _, kh, kw = array.shape
    return permute(array.reshape(cm // multiplier, multiplier, kh, kw), (2, 3, 0, 1))


def _depthwise_from_keras(array: Array) -> Array:
    kh, kw, c, m = array.shape
    return permute(array, (2, 3, 0, 1)).reshape(c * m, 1, kh, kw)


class DepthwiseConv2D(ConvBase):
    """Each input channel convolved with its own ``depth_multiplier`` kernels.

    ``(batch, H, W, C)`` -> ``(batch, H', W', C·depth_multiplier)``.

    Args:
        kernel_size: ``k`` or ``(kh, kw)``.
        strides, padding, data_format, dilation_rate, activation, use_bias: As
            :class:`Conv2D` (padding also int / pairs, beyond Keras).
        depth_multiplier: Output channels per input channel (default 1).
        depthwise_initializer: Default ``"glorot_uniform"``.
        depthwise_regularizer, depthwise_constraint: Optional, for the kernel.
        bias_initializer, bias_regularizer, bias_constraint: For the bias.

    Weights: ``weight`` ``(C·m, 1, kh, kw)``, ``bias`` ``(C·m,)``.
    """

    def __init__(
        self,
        kernel_size: Any,
        strides: Any = 1,
        padding: Any = "valid",
        depth_multiplier: int = 1,
        data_format: str | None = None,
        dilation_rate: Any = 1,
        activation: Any = None,
        use_bias: bool = True,
        depthwise_initializer: Any = "glorot_uniform",
        bias_initializer: Any = "zeros",
        depthwise_regularizer: Any = None,
        bias_regularizer: Any = None,
        depthwise_constraint: Any = None,
        bias_constraint: Any = None,
        **kwargs: Any,
    ):
        self.depth_multiplier = positive_int(
            depth_multiplier, "depth_multiplier", f"{type(self).__name__}"
        )
        super().__init__(
            filters=self.depth_multiplier,  # the real count is C·m, known at build
            kernel_size=kernel_size,
            strides=strides,
            padding=padding,
            data_format=data_format,
            dilation_rate=dilation_rate,
            activation=activation,
            use_bias=use_bias,
            kernel_initializer=get_initializer(depthwise_initializer, "depthwise_initializer"),
            bias_initializer=bias_initializer,
            kernel_regularizer=get_regularizer(depthwise_regularizer, "depthwise_regularizer"),
            bias_regularizer=bias_regularizer,
            kernel_constraint=get_constraint(depthwise_constraint, "depthwise_constraint"),
            bias_constraint=bias_constraint,
            **kwargs,
        )

    def build(self, input_shape: tuple) -> None:
        cin = self._channels_of(input_shape)
        self.filters, self.groups = cin * self.depth_multiplier, cin
        super().build(input_shape)

    def _output_channels(self, input_shape: tuple) -> int | None:
        cin = input_shape[channel_axis(self.data_format)]
        return None if cin is None else cin * self.depth_multiplier

    def _kernel_shape(self, in_channels: int) -> tuple[int, ...]:
        return (*self.kernel_size, in_channels, self.depth_multiplier)

    def to_keras_layout(self, name: str, array: Array) -> Array:
        if name != "weight":
            return array
        return _depthwise_to_keras(array, self.depth_multiplier)

    def from_keras_layout(self, name: str, array: Array) -> Array:
        return _depthwise_from_keras(array) if name == "weight" else array

    def param_formula(self) -> str | None:
        if self.in_channels is None:
            return None
        kh, kw = self.kernel_size
        bias = f" + {self.filters:,}" if self.use_bias else ""
        return (
            f"{self.in_channels} × {self.depth_multiplier} × ({kh}×{kw}){bias}"
            f" = {self.count_params():,}"
        )

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        for key in ("filters", "groups"):
            config.pop(key)
        for kind in ("initializer", "regularizer", "constraint"):
            config[f"depthwise_{kind}"] = config.pop(f"kernel_{kind}")
        return config | {"depth_multiplier": self.depth_multiplier}


class SeparableConv2D(ConvBase):
    """Depthwise convolution followed by a 1×1 pointwise one (Keras' SeparableConv2D).

    Args:
        filters: Output channels of the pointwise step.
        kernel_size, strides, padding, data_format, dilation_rate, activation,
            use_bias: As :class:`Conv2D`; ``strides``/``padding`` apply to the
            depthwise step.
        depth_multiplier: Depthwise outputs per input channel (default 1).
        depthwise_initializer, pointwise_initializer: Default ``"glorot_uniform"``.
        depthwise_regularizer, pointwise_regularizer, bias_regularizer: Optional.
        depthwise_constraint, pointwise_constraint, bias_constraint: Optional.

    Weights (Keras order): ``depthwise_weight`` ``(C·m, 1, kh, kw)``,
    ``pointwise_weight`` ``(filters, C·m, 1, 1)``, ``bias`` ``(filters,)``.
    """

    def __init__(
        self,
        filters: int,
        kernel_size: Any,
        strides: Any = 1,
        padding: Any = "valid",
        data_format: str | None = None,
        dilation_rate: Any = 1,
        depth_multiplier: int = 1,
        activation: Any = None,
        use_bias: bool = True,
        depthwise_initializer: Any = "glorot_uniform",
        pointwise_initializer: Any = "glorot_uniform",
        bias_initializer: Any = "zeros",
        depthwise_regularizer: Any = None,
        pointwise_regularizer: Any = None,
        bias_regularizer: Any = None,
        depthwise_constraint: Any = None,
        pointwise_constraint: Any = None,
        bias_constraint: Any = None,
        **kwargs: Any,
    ):
        self.depth_multiplier = positive_int(
            depth_multiplier, "depth_multiplier", "SeparableConv2D"
        )
        self.depthwise_initializer = get_initializer(depthwise_initializer, "depthwise_initializer")
        self.depthwise_regularizer = get_regularizer(depthwise_regularizer, "depthwise_regularizer")
        self.depthwise_constraint = get_constraint(depthwise_constraint, "depthwise_constraint")
        super().__init__(
            filters=filters,
            kernel_size=kernel_size,
            strides=strides,
            padding=padding,
            data_format=data_format,
            dilation_rate=dilation_rate,
            activation=activation,
            use_bias=use_bias,
            kernel_initializer=pointwise_initializer,
            bias_initializer=bias_initializer,
            kernel_regularizer=pointwise_regularizer,
            bias_regularizer=bias_regularizer,
            kernel_constraint=pointwise_constraint,
            bias_constraint=bias_constraint,
            **kwargs,
        )

    def build(self, input_shape: tuple) -> None:
        cin = self._channels_of(input_shape)
        self.compute_output_shape(input_shape)
        self.in_channels = cin
        m = self.depth_multiplier
        self.add_weight(
            "depthwise_weight",
            (*self.kernel_size, cin, m),
            self.depthwise_initializer,
            self.depthwise_regularizer,
            self.depthwise_constraint,
        )
        self._add_kernel_and_bias((1, 1, cin * m, self.filters), self.filters, "pointwise_weight")
        self.input_spec.axes = {channel_axis(self.data_format): cin}

    def _conv(self, x: torch.Tensor, padding: tuple) -> torch.Tensor:
        y = F.conv2d(
            x, self.depthwise_weight, None, self.strides, padding, self.dilation_rate, x.shape[1]
        )
        return F.conv2d(y, self.pointwise_weight, self.bias)

    def to_keras_layout(self, name: str, array: Array) -> Array:
        if name == "depthwise_weight":
            return _depthwise_to_keras(array, self.depth_multiplier)
        if name == "pointwise_weight":
            return permute(array, (2, 3, 1, 0))
        return array

    def from_keras_layout(self, name: str, array: Array) -> Array:
        if name == "depthwise_weight":
            return _depthwise_from_keras(array)
        if name == "pointwise_weight":
            return permute(array, (3, 2, 0, 1))
        return array

    def param_formula(self) -> str | None:
        if self.in_channels is None:
            return None
        kh, kw = self.kernel_size
        cm = self.in_channels * self.depth_multiplier
        bias = f" + {self.filters:,}" if self.use_bias else ""
        return f"{cm} × ({kh}×{kw}) + {self.filters:,} × {cm}{bias} = {self.count_params():,}"

    def macs(self, input_shape: tuple, output_shape: tuple) -> int:
        """Depthwise ``H'·W'·C·m·kh·kw`` plus pointwise ``H'·W'·C·m·filters``."""
        if self.in_channels is None or any(v is None for v in output_shape[1:]):
            return 0
        spatial = math.prod(spatial_of(output_shape, self.data_format))
        cm = self.in_channels * self.depth_multiplier
        return spatial * cm * (math.prod(self.kernel_size) + self.filters)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.pop("groups")
        for kind in ("initializer", "regularizer", "constraint"):
            config[f"pointwise_{kind}"] = config.pop(f"kernel_{kind}")
        return config | {
            "depth_multiplier": self.depth_multiplier,
            "depthwise_initializer": serialize_initializer(self.depthwise_initializer),
            "depthwise_regularizer": serialize_regularizer(self.depthwise_regularizer),
            "depthwise_constraint": serialize_constraint(self.depthwise_constraint),
        }
