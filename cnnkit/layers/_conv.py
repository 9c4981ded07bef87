"""Convolution layers: ``Conv1D`` and ``Conv2D`` (Keras arguments, torch weights).

Weights use torch's layout and names (``weight`` ``(filters, in/groups, *kernel)``,
``bias``) so torchvision state dicts load directly; ``get_weights`` returns
Keras' ``(*kernel, in/groups, filters)``. The layer takes channels-last input
and convolves its free channels-first view; see ``_base.py``.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import torch
import torch.nn.functional as F

from cnnkit._errors import invalid_value
from cnnkit.layers._args import (
    normalize_data_format,
    normalize_padding,
    normalize_tuple,
    positive_int,
)
from cnnkit.layers._base import InputSpec, Layer
from cnnkit.layers._kernel import KernelBiasMixin
from cnnkit.layers._spatial import (
    apply_padding,
    channel_axis,
    pad_pairs,
    spatial_formula,
    spatial_of,
    to_channels_first,
    to_channels_last,
    windowed_output_shape,
)
from cnnkit.layers._weights import Array, permute

__all__ = ["Conv1D", "Conv2D", "ConvBase"]

_LAYOUTS = {
    1: ("(batch, steps, channels)", "(batch, channels, steps)"),
    2: ("(batch, height, width, channels)", "(batch, channels, height, width)"),
}


class ConvBase(KernelBiasMixin, Layer):
    """Shared machinery of N-d convolutions with Keras arguments."""

    rank: ClassVar[int] = 2
    _padding_names: ClassVar[tuple[str, ...]] = ("valid", "same")

    def __init__(
        self,
        filters: int,
        kernel_size: int | tuple[int, ...],
        strides: int | tuple[int, ...] = 1,
        padding: Any = "valid",
        data_format: str | None = None,
        dilation_rate: int | tuple[int, ...] = 1,
        groups: int = 1,
        activation: Any = None,
        use_bias: bool = True,
        kernel_initializer: Any = "glorot_uniform",
        bias_initializer: Any = "zeros",
        kernel_regularizer: Any = None,
        bias_regularizer: Any = None,
        kernel_constraint: Any = None,
        bias_constraint: Any = None,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        who = f"{type(self).__name__} '{self.name}'"
        n = self.rank
        self.filters = positive_int(filters, "filters", who)
        self.kernel_size = normalize_tuple(kernel_size, n, "kernel_size", who)
        self.strides = normalize_tuple(strides, n, "strides", who)
        self.padding = normalize_padding(padding, n, who, self._padding_names)
        self.data_format = normalize_data_format(data_format, who)
        self.dilation_rate = normalize_tuple(dilation_rate, n, "dilation_rate", who)
        self.groups = positive_int(groups, "groups", who)
        if self.filters % self.groups:
            raise invalid_value(
                f"{who}: `filters` must be divisible by `groups`.",
                received={"filters": filters, "groups": groups},
            )
        self._init_kernel_args(
            activation,
            use_bias,
            kernel_initializer,
            bias_initializer,
            kernel_regularizer,
            bias_regularizer,
            kernel_constraint,
            bias_constraint,
        )
        layout = _LAYOUTS[n][self.data_format == "channels_first"]
        self.input_spec = InputSpec(ndim=n + 2, layout=layout)
        self.in_channels: int | None = None
        self.build_from_config_shape()

    # ------------------------------------------------------------------ shapes
    def _channels_of(self, input_shape: tuple) -> int:
        cin = input_shape[channel_axis(self.data_format)]
        if cin is None:
            raise invalid_value(
                f"{type(self).__name__} '{self.name}': the channel axis of the input must be "
                "known.",
                received={"input_shape": input_shape},
            )
        return cin

    def _kernel_shape(self, in_channels: int) -> tuple[int, ...]:
        """Keras-layout kernel shape: ``(*kernel_size, in/groups, filters)``."""
        if in_channels % self.groups:
            raise invalid_value(
                f"{type(self).__name__} '{self.name}': input channels must be divisible by "
                "`groups`.",
                received={"in_channels": in_channels, "groups": self.groups},
            )
        return (*self.kernel_size, in_channels // self.groups, self.filters)

    def build(self, input_shape: tuple) -> None:
        cin = self._channels_of(input_shape)
        self.compute_output_shape(input_shape)  # kernel-vs-input check before any weight
        self.in_channels = cin
        self._add_kernel_and_bias(self._kernel_shape(cin), self.filters)
        self.input_spec.axes = {channel_axis(self.data_format): cin}

    def _output_channels(self, input_shape: tuple) -> int | None:
        return self.filters

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        self.check_input_shape(input_shape)
        return windowed_output_shape(
            f"{type(self).__name__} '{self.name}'",
            input_shape,
            self.data_format,
            self._output_channels(input_shape),
            self.padding,
            self.kernel_size,
            self.strides,
            self.dilation_rate,
        )

    # ------------------------------------------------------------------ forward
    def _conv(self, x: torch.Tensor, padding: tuple) -> torch.Tensor:
        fn = F.conv1d if self.rank == 1 else F.conv2d
        return fn(x, self.weight, self.bias, self.strides, padding, self.dilation_rate, self.groups)

    def call(self, inputs: torch.Tensor, training: bool | None = None) -> torch.Tensor:
        x = to_channels_first(inputs, self.data_format)
        pairs = pad_pairs(
            self.padding, x.shape[2:], self.kernel_size, self.strides, self.dilation_rate
        )
        x, padding = apply_padding(x, pairs)
        y = self._conv(x, padding)
        return self.activation(to_channels_last(y, self.data_format))

    # ------------------------------------------------------------------ layouts
    def to_keras_layout(self, name: str, array: Array) -> Array:
        if name != "weight":
            return array
        # torch (O, I, *k) -> Keras (*k, I, O)
        return permute(array, (*range(2, self.rank + 2), 1, 0))

    def from_keras_layout(self, name: str, array: Array) -> Array:
        if name != "weight":
            return array
        # Keras (*k, I, O) -> torch (O, I, *k)
        return permute(array, (self.rank + 1, self.rank, *range(self.rank)))

    # ------------------------------------------------------------------ explanations
    def param_formula(self) -> str | None:
        if self.in_channels is None:
            return None
        k = "×".join(str(v) for v in self.kernel_size)
        per = self.in_channels // self.groups
        bias = f" + {self.filters:,}" if self.use_bias else ""
        return f"{self.filters:,} × ({k}×{per}){bias} = {self.count_params():,}"

    def output_size_formula(self, input_shape: tuple) -> str | None:
        return spatial_formula(
            self.padding,
            spatial_of(input_shape, self.data_format),
            self.kernel_size,
            self.strides,
            self.dilation_rate,
        )

    def macs(self, input_shape: tuple, output_shape: tuple) -> int:
        """``prod(out spatial) · filters · prod(kernel) · in/groups`` for one sample."""
        if self.in_channels is None or any(v is None for v in output_shape[1:]):
            return 0
        per_output = (self.in_channels // self.groups) * math.prod(self.kernel_size)
        return math.prod(spatial_of(output_shape, self.data_format)) * self.filters * per_output

    def get_config(self) -> dict[str, Any]:
        padding = self.padding if isinstance(self.padding, str) else [list(p) for p in self.padding]
        return (
            super().get_config()
            | {
                "filters": self.filters,
                "kernel_size": list(self.kernel_size),
                "strides": list(self.strides),
                "padding": padding,
                "data_format": self.data_format,
                "dilation_rate": list(self.dilation_rate),
                "groups": self.groups,
            }
            | self._kernel_config()
        )

    def extra_repr(self) -> str:
        return f"name={self.name!r}, filters={self.filters}, kernel_size={self.kernel_size}"


class Conv2D(ConvBase):
    """2-D convolution: ``(batch, H, W, C_in)`` -> ``(batch, H', W', filters)``.

    Args:
        filters: Number of output channels (>= 1).
        kernel_size: ``k`` or ``(kh, kw)``.
        strides: ``s`` or ``(sh, sw)``; default 1.
        padding: ``"valid"`` (default), ``"same"`` (TensorFlow rule: the extra
            pixel goes bottom/right), or beyond Keras an int, ``(ph, pw)`` or
            ``((top, bottom), (left, right))``.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        dilation_rate: ``d`` or ``(dh, dw)``; default 1.
        groups: Grouped convolution (``in`` and ``filters`` divisible by it).
        activation: Name, callable, or None (linear).
        use_bias: Add one bias per filter (default True).
        kernel_initializer: Default ``"glorot_uniform"``.
        bias_initializer: Default ``"zeros"``.
        kernel_regularizer, bias_regularizer: Optional penalties (``"l2"``, ``l2(1e-4)``...).
        kernel_constraint, bias_constraint: Optional projections after each step.
        **kwargs: ``name``, ``trainable``, ``input_shape``, ``activity_regularizer``...

    Weights: ``weight`` ``(filters, in/groups, kh, kw)`` and ``bias`` ``(filters,)``.
    """

    rank = 2


class Conv1D(ConvBase):
    """1-D convolution over ``(batch, steps, channels)``; same arguments as :class:`Conv2D`.

    ``padding`` also accepts ``"causal"`` (all padding before, for sequences).
    """

    rank = 1
    _padding_names = ("valid", "same", "causal")
