"""Pooling layers: windowed max/average and global max/average, 1-D and 2-D.

Beyond Keras (for exact torchvision parity) ``padding`` may be explicit
amounts: max pooling pads with ``−inf`` and average pooling either excludes
padded cells from the mean (``count_include_pad=False``, the default, which is
what Keras' ``"same"`` does) or includes them (torch's default).
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch
import torch.nn.functional as F

from cnnkit.layers._args import normalize_data_format, normalize_padding, normalize_tuple
from cnnkit.layers._base import InputSpec, Layer
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

__all__ = [
    "AveragePooling1D",
    "AveragePooling2D",
    "GlobalAveragePooling1D",
    "GlobalAveragePooling2D",
    "GlobalMaxPooling1D",
    "GlobalMaxPooling2D",
    "MaxPooling1D",
    "MaxPooling2D",
]

#: rank -> (channels_last layout, channels_first layout), for input-check messages.
_LAYOUTS = {
    1: ("(batch, steps, channels)", "(batch, channels, steps)"),
    2: ("(batch, height, width, channels)", "(batch, channels, height, width)"),
}


class _Pooling2D(Layer):
    """Shared arguments and shape arithmetic of windowed pooling (``rank`` 1 or 2)."""

    rank: ClassVar[int] = 2

    def __init__(
        self,
        pool_size: Any = 2,
        strides: Any = None,
        padding: Any = "valid",
        data_format: str | None = None,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        who = f"{type(self).__name__} '{self.name}'"
        n = self.rank
        self.pool_size = normalize_tuple(pool_size, n, "pool_size", who)
        self.strides = (
            self.pool_size if strides is None else normalize_tuple(strides, n, "strides", who)
        )
        self.padding = normalize_padding(padding, n, who)
        self.data_format = normalize_data_format(data_format, who)
        layout = _LAYOUTS[n][self.data_format == "channels_first"]
        self.input_spec = InputSpec(ndim=n + 2, layout=layout)
        self.build_from_config_shape()

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        self.check_input_shape(input_shape)
        return windowed_output_shape(
            f"{type(self).__name__} '{self.name}'",
            input_shape,
            self.data_format,
            input_shape[channel_axis(self.data_format)],
            self.padding,
            self.pool_size,
            self.strides,
            (1,) * self.rank,
        )

    def build(self, input_shape: tuple) -> None:
        self.compute_output_shape(input_shape)  # window-vs-input check at build time

    def call(self, inputs: torch.Tensor, training: bool | None = None) -> torch.Tensor:
        x = to_channels_first(inputs, self.data_format)
        ones = (1,) * self.rank
        pairs = pad_pairs(self.padding, x.shape[2:], self.pool_size, self.strides, ones)
        y = self._pool(x, pairs)
        return to_channels_last(y, self.data_format)

    def _pool(self, x: torch.Tensor, pairs: tuple) -> torch.Tensor:
        raise NotImplementedError

    def output_size_formula(self, input_shape: tuple) -> str | None:
        return spatial_formula(
            self.padding,
            spatial_of(input_shape, self.data_format),
            self.pool_size,
            self.strides,
            (1,) * self.rank,
        )

    def get_config(self) -> dict[str, Any]:
        padding = self.padding if isinstance(self.padding, str) else [list(p) for p in self.padding]
        return super().get_config() | {
            "pool_size": list(self.pool_size),
            "strides": list(self.strides),
            "padding": padding,
            "data_format": self.data_format,
        }

    def _half_window(self) -> list[int]:
        return [k // 2 for k in self.pool_size]


class _MaxPooling(_Pooling2D):
    def _pool(self, x: torch.Tensor, pairs: tuple) -> torch.Tensor:
        x, padding = apply_padding(x, pairs, float("-inf"), self._half_window())
        pool = F.max_pool1d if self.rank == 1 else F.max_pool2d
        return pool(x, self.pool_size, self.strides, padding)


class MaxPooling2D(_MaxPooling):
    """Maximum over each ``pool_size`` window.

    ``(batch, H, W, C)`` -> ``(batch, H', W', C)``; no parameters, 0 MACs.

    Args:
        pool_size: ``k`` or ``(kh, kw)``; default 2, i.e. ``(2, 2)``.
        strides: Default None, meaning ``pool_size``.
        padding: ``"valid"`` (default), ``"same"``, or explicit amounts (padded with −inf).
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
    """


class _AveragePooling(_Pooling2D):
    def __init__(self, *args: Any, count_include_pad: bool = False, **kwargs: Any):
        self.count_include_pad = bool(count_include_pad)
        super().__init__(*args, **kwargs)

    def _pool(self, x: torch.Tensor, pairs: tuple) -> torch.Tensor:
        padded, padding = apply_padding(x, pairs, 0.0, self._half_window())
        k, s, cip = self.pool_size, self.strides, self.count_include_pad
        pool = F.avg_pool1d if self.rank == 1 else F.avg_pool2d
        if padded is x or cip:  # torch handles symmetric padding (or counting pads) itself
            return pool(padded, k, s, padding, count_include_pad=cip)
        # Asymmetric padding excluded from the mean: divide window sums by window counts,
        # counted once on a single-channel mask (no per-sample work).
        mask = x.new_ones((1, 1, *x.shape[2:]))
        mask, _ = apply_padding(mask, pairs, 0.0, [0] * self.rank)
        return pool(padded, k, s) / pool(mask, k, s)

    def get_config(self) -> dict[str, Any]:
        return super().get_config() | {"count_include_pad": self.count_include_pad}


class AveragePooling2D(_AveragePooling):
    """Mean over each ``pool_size`` window.

    Args:
        pool_size, strides, padding, data_format: As :class:`MaxPooling2D`.
        count_include_pad: Beyond Keras. False (default, Keras' "same" rule)
            divides by the number of real input cells in the window; True
            divides by the full window, counting padded zeros (torch's default).
    """


class _GlobalPooling2D(Layer):
    rank: ClassVar[int] = 2

    def __init__(self, data_format: str | None = None, keepdims: bool = False, **kwargs: Any):
        super().__init__(**kwargs)
        self.data_format = normalize_data_format(data_format, f"{type(self).__name__}")
        self.keepdims = bool(keepdims)
        layout = _LAYOUTS[self.rank][self.data_format == "channels_first"]
        self.input_spec = InputSpec(ndim=self.rank + 2, layout=layout)
        self.build_from_config_shape()

    def _axes(self) -> tuple[int, ...]:
        first = 1 if self.data_format == "channels_last" else 2
        return tuple(range(first, first + self.rank))

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        self.check_input_shape(input_shape)
        if self.keepdims:
            return tuple(1 if i in self._axes() else v for i, v in enumerate(input_shape))
        return tuple(v for i, v in enumerate(input_shape) if i not in self._axes())

    def get_config(self) -> dict[str, Any]:
        return super().get_config() | {"data_format": self.data_format, "keepdims": self.keepdims}


class _GlobalAverage(_GlobalPooling2D):
    def call(self, inputs: torch.Tensor, training: bool | None = None) -> torch.Tensor:
        return inputs.mean(dim=self._axes(), keepdim=self.keepdims)


class _GlobalMax(_GlobalPooling2D):
    def call(self, inputs: torch.Tensor, training: bool | None = None) -> torch.Tensor:
        return inputs.amax(dim=self._axes(), keepdim=self.keepdims)


class GlobalAveragePooling2D(_GlobalAverage):
    """Mean over height and width: ``(batch, H, W, C)`` -> ``(batch, C)``.

    Args:
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        keepdims: Keep the spatial axes with size 1 (default False).
    """


class GlobalMaxPooling2D(_GlobalMax):
    """Maximum over height and width: ``(batch, H, W, C)`` -> ``(batch, C)``."""


class MaxPooling1D(_MaxPooling):
    """Maximum over windows of ``pool_size`` steps: ``(batch, L, C)`` -> ``(batch, L', C)``.

    Args:
        pool_size: Window length; default 2. strides: Default None, meaning ``pool_size``.
        padding: ``"valid"`` (default) or ``"same"``. data_format: As :class:`MaxPooling2D`.
    """

    rank = 1


class AveragePooling1D(_AveragePooling):
    """Mean over windows of ``pool_size`` steps; arguments as :class:`MaxPooling1D`."""

    rank = 1


class GlobalAveragePooling1D(_GlobalAverage):
    """Mean over the steps: ``(batch, steps, C)`` -> ``(batch, C)``; ``keepdims`` keeps it."""

    rank = 1


class GlobalMaxPooling1D(_GlobalMax):
    """Maximum over the steps: ``(batch, steps, C)`` -> ``(batch, C)``."""

    rank = 1
