"""``Conv2DTranspose``: the adjoint ("deconvolution") of ``Conv2D``, with Keras' sizes.

The layer runs ``F.conv_transpose2d`` without padding (the *full* result,
``(n − 1)·s + k_eff`` per axis) and then keeps the window Keras keeps:

* ``"same"``: ``n·s`` values starting at ``⌊max(k_eff − s, 0)/2⌋``, exactly the
  gradient of a TensorFlow-"same" ``Conv2D`` (extra pixel bottom/right), which
  torch's symmetric ``padding=`` cannot express for odd ``k_eff − s``;
* ``"valid"``: ``n·s + max(k_eff − s, 0)`` values from the start;
* with ``output_padding``: ``(n − 1)·s + k_eff − 2·pad + output_padding`` values
  from ``pad`` (``k_eff // 2`` for same, 0 for valid).

Positions past the full result (stride larger than the kernel) are zeros, as in
Keras; the bias is added after the crop.

Weights: ``weight`` in torch's ``(in, filters, kh, kw)``; ``get_weights()`` gives
Keras' ``(kh, kw, filters, in)``.
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F

from cnnkit._errors import invalid_value
from cnnkit.layers._conv import ConvBase
from cnnkit.layers._spatial import (
    join_shape,
    spatial_of,
    to_channels_first,
    to_channels_last,
)
from cnnkit.layers._weights import Array, permute

__all__ = ["Conv2DTranspose"]


def _output_padding(value: Any, layer: str) -> tuple[int, int] | None:
    """None, or ``p``/``(ph, pw)`` as two integers >= 0."""
    if value is None:
        return None
    pair = (value, value) if isinstance(value, int) else value
    if (
        not isinstance(pair, (list, tuple))
        or len(pair) != 2
        or any(isinstance(p, bool) or not isinstance(p, int) or p < 0 for p in pair)
    ):
        raise invalid_value(
            f"{layer}: `output_padding` must be None, an integer >= 0, or two of them.",
            received={"output_padding": value},
        )
    return (pair[0], pair[1])


class Conv2DTranspose(ConvBase):
    """Transposed 2-D convolution: ``(batch, H, W, C_in)`` -> ``(batch, H', W', filters)``.

    ``H' = H·s`` for ``padding="same"`` and ``H·s + max(k − s, 0)`` for ``"valid"``.

    Args:
        filters: Output channels.
        kernel_size: ``k`` or ``(kh, kw)``.
        strides: ``s`` or ``(sh, sw)``; default 1.
        padding: ``"valid"`` (default) or ``"same"``.
        output_padding: None (default) or ``p``/``(ph, pw)`` extra rows/columns, each
            smaller than the stride.
        data_format, dilation_rate, activation, use_bias, initializers, regularizers,
            constraints: As :class:`Conv2D`.
    """

    rank = 2

    def __init__(
        self,
        filters: int,
        kernel_size: Any,
        strides: Any = 1,
        padding: str = "valid",
        output_padding: Any = None,
        data_format: str | None = None,
        dilation_rate: Any = 1,
        **kwargs: Any,
    ):
        if kwargs.get("groups", 1) != 1:
            raise invalid_value(
                "Conv2DTranspose: grouped transposed convolutions are not supported.",
                received={"groups": kwargs["groups"]},
            )
        if not isinstance(padding, str):
            # Explicit amounts have no meaning Keras defines for the transpose.
            raise invalid_value(
                "Conv2DTranspose: `padding` must be 'valid' or 'same'.",
                received={"padding": padding},
            )
        super().__init__(
            filters,
            kernel_size,
            strides=strides,
            padding=padding,
            data_format=data_format,
            dilation_rate=dilation_rate,
            **kwargs,
        )
        who = f"Conv2DTranspose '{self.name}'"
        self.output_padding = _output_padding(output_padding, who)
        if self.output_padding is not None and any(
            p >= s for p, s in zip(self.output_padding, self.strides, strict=True)
        ):
            raise invalid_value(
                f"{who}: every `output_padding` must be smaller than the stride.",
                received={"output_padding": output_padding, "strides": self.strides},
            )

    # ------------------------------------------------------------------ shapes
    def _effective_kernel(self) -> tuple[int, ...]:
        return tuple(k + (k - 1) * (d - 1) for k, d in zip(self.kernel_size, self.dilation_rate,
                                                            strict=True))  # fmt: skip

    def _windows(self, sizes: tuple[int, ...]) -> list[tuple[int, int]]:
        """``(start, length)`` per axis of the kept window of the full result."""
        windows = []
        for axis, (n, k, s) in enumerate(zip(sizes, self._effective_kernel(), self.strides,
                                             strict=True)):  # fmt: skip
            if self.output_padding is None:
                if self.padding == "same":
                    windows.append((max(k - s, 0) // 2, n * s))
                else:
                    windows.append((0, n * s + max(k - s, 0)))
            else:
                pad = k // 2 if self.padding == "same" else 0
                windows.append((pad, (n - 1) * s + k - 2 * pad + self.output_padding[axis]))
        return windows

    def _kernel_shape(self, in_channels: int) -> tuple[int, ...]:
        """Keras-layout kernel shape: ``(kh, kw, filters, in)``."""
        return (*self.kernel_size, self.filters, in_channels)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        self.check_input_shape(input_shape)
        sizes = spatial_of(input_shape, self.data_format)
        out = [
            None if n is None else self._windows((n,) * self.rank)[axis][1]
            for axis, n in enumerate(sizes)
        ]
        return join_shape(input_shape[0], out, self.filters, self.data_format)

    # ------------------------------------------------------------------ forward
    def call(self, inputs: torch.Tensor, training: bool | None = None) -> torch.Tensor:
        x = to_channels_first(inputs, self.data_format)
        full = F.conv_transpose2d(x, self.weight, None, self.strides, 0, 0, 1, self.dilation_rate)
        windows = self._windows(tuple(x.shape[2:]))
        short = [max(0, start + length - n) for (start, length), n in zip(windows, full.shape[2:],
                                                                          strict=True)]  # fmt: skip
        if any(short):
            full = F.pad(full, [0, short[1], 0, short[0]])
        (top, h), (left, w) = windows
        y = full[:, :, top : top + h, left : left + w]
        if self.bias is not None:
            y = y + self.bias.view(1, -1, 1, 1)
        return self.activation(to_channels_last(y, self.data_format))

    # ------------------------------------------------------------------ layouts
    def to_keras_layout(self, name: str, array: Array) -> Array:
        # torch (in, out, kh, kw) -> Keras (kh, kw, out, in)
        return permute(array, (2, 3, 1, 0)) if name == "weight" else array

    def from_keras_layout(self, name: str, array: Array) -> Array:
        # Keras (kh, kw, out, in) -> torch (in, out, kh, kw)
        return permute(array, (3, 2, 0, 1)) if name == "weight" else array

    # ------------------------------------------------------------------ explanations
    def output_size_formula(self, input_shape: tuple) -> str | None:
        sizes = spatial_of(input_shape, self.data_format)
        if any(n is None for n in sizes):
            return None
        parts = []
        for n, k, s, (_, length) in zip(sizes, self._effective_kernel(), self.strides,
                                        self._windows(tuple(sizes)), strict=True):  # fmt: skip
            if self.output_padding is None and self.padding == "same":
                parts.append(f"{n} × {s} = {length}")
            elif self.output_padding is None:
                parts.append(f"{n} × {s} + max({k} − {s}, 0) = {length}")
            else:
                parts.append(f"({n} − 1) × {s} + {k} − 2·pad + output_padding = {length}")
        return parts[0] if len(set(parts)) == 1 else f"H: {parts[0]}; W: {parts[1]}"

    def macs(self, input_shape: tuple, output_shape: tuple) -> int:
        """Every input pixel scatters ``in · filters · kh · kw`` products."""
        sizes = spatial_of(input_shape, self.data_format)
        if self.in_channels is None or any(v is None for v in sizes):
            return 0
        return math.prod(sizes) * self.in_channels * self.filters * math.prod(self.kernel_size)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        del config["groups"]
        padding = None if self.output_padding is None else list(self.output_padding)
        return config | {"output_padding": padding}
