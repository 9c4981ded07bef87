"""Shape-changing layers without weights: ``Flatten``, ``Reshape`` and ``ZeroPadding2D``."""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F

from cnnkit._errors import invalid_value
from cnnkit.layers._args import normalize_data_format, normalize_padding
from cnnkit.layers._base import InputSpec, Layer
from cnnkit.layers._spatial import channel_axis, join_shape, spatial_of

__all__ = ["Flatten", "Reshape", "ZeroPadding2D"]


class Flatten(Layer):
    """``(batch, d1, d2, ...)`` -> ``(batch, d1·d2·...)`` in channels-last order, like Keras.

    On a channels-last image batch this is a free reshape. With
    ``data_format="channels_first"`` the input is first viewed channels-last
    (as Keras does), so the feature order is ``(H, W, C)`` either way.
    """

    def __init__(self, data_format: str | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        self.data_format = normalize_data_format(data_format, "Flatten")
        self.input_spec = InputSpec(min_ndim=2, layout="(batch, ...)")
        self.build_from_config_shape()

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        rest = input_shape[1:]
        return (input_shape[0], None if None in rest else math.prod(rest))

    def call(self, inputs: torch.Tensor, training: bool | None = None) -> torch.Tensor:
        if self.data_format == "channels_first" and inputs.ndim > 2:
            inputs = inputs.permute(0, *range(2, inputs.ndim), 1)
        return inputs.reshape(inputs.shape[0], -1)

    def output_size_formula(self, input_shape: tuple) -> str | None:
        rest = input_shape[1:]
        if None in rest or len(rest) < 2:
            return None
        return f"{'×'.join(str(v) for v in rest)} = {math.prod(rest):,}"

    def get_config(self) -> dict[str, Any]:
        return super().get_config() | {"data_format": self.data_format}


class Reshape(Layer):
    """Reshape each sample to ``target_shape`` (batch axis kept); one entry may be -1.

    Args:
        target_shape: Shape of one sample, e.g. ``(28, 28, 1)`` or ``(-1, 64)``.
    """

    def __init__(self, target_shape: tuple[int, ...], **kwargs: Any):
        super().__init__(**kwargs)
        target = tuple(target_shape) if isinstance(target_shape, (list, tuple)) else None
        if (
            not target
            or any(
                isinstance(v, bool) or not isinstance(v, int) or v == 0 or v < -1 for v in target
            )
            or target.count(-1) > 1
        ):
            raise invalid_value(
                f"Reshape '{self.name}': `target_shape` must be a tuple of positive integers "
                "with at most one -1.",
                received={"target_shape": target_shape},
            )
        self.target_shape = target
        self.build_from_config_shape()

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        rest = input_shape[1:]
        if None in rest:
            return (input_shape[0], *(None if v == -1 else v for v in self.target_shape))
        total, known = math.prod(rest), math.prod(v for v in self.target_shape if v != -1)
        missing = total // known if -1 in self.target_shape else None
        if total % known or (missing is None and known != total):
            raise invalid_value(
                f"Reshape '{self.name}': cannot reshape a sample of {total} values into "
                f"{self.target_shape}.",
                received={"input_shape": input_shape, "target_shape": self.target_shape},
            )
        return (input_shape[0], *(missing if v == -1 else v for v in self.target_shape))

    def build(self, input_shape: tuple) -> None:
        self.compute_output_shape(input_shape)

    def call(self, inputs: torch.Tensor, training: bool | None = None) -> torch.Tensor:
        return inputs.reshape(inputs.shape[0], *self.target_shape)

    def get_config(self) -> dict[str, Any]:
        return super().get_config() | {"target_shape": list(self.target_shape)}


class ZeroPadding2D(Layer):
    """Add rows and columns of zeros around each image.

    Args:
        padding: ``p`` (all sides), ``(ph, pw)`` (symmetric per axis) or
            ``((top, bottom), (left, right))``; default ``(1, 1)``.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
    """

    def __init__(self, padding: Any = (1, 1), data_format: str | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        self.padding = normalize_padding(padding, 2, f"ZeroPadding2D '{self.name}'", names=())
        self.data_format = normalize_data_format(data_format, "ZeroPadding2D")
        layout = (
            "(batch, channels, height, width)"
            if self.data_format == "channels_first"
            else "(batch, height, width, channels)"
        )
        self.input_spec = InputSpec(ndim=4, layout=layout)
        self.build_from_config_shape()

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        sizes = spatial_of(input_shape, self.data_format)
        out = tuple(
            None if n is None else n + b + a for n, (b, a) in zip(sizes, self.padding, strict=True)
        )
        channels = input_shape[channel_axis(self.data_format)]
        return join_shape(input_shape[0], out, channels, self.data_format)

    def call(self, inputs: torch.Tensor, training: bool | None = None) -> torch.Tensor:
        (top, bottom), (left, right) = self.padding
        if self.data_format == "channels_first":
            return F.pad(inputs, (left, right, top, bottom))
        return F.pad(inputs, (0, 0, left, right, top, bottom))

    def output_size_formula(self, input_shape: tuple) -> str | None:
        sizes = spatial_of(input_shape, self.data_format)
        if None in sizes:
            return None
        parts = [
            f"{n} + {b} + {a} = {n + b + a}" for n, (b, a) in zip(sizes, self.padding, strict=True)
        ]
        return parts[0] if parts[0] == parts[1] else f"H: {parts[0]}; W: {parts[1]}"

    def get_config(self) -> dict[str, Any]:
        return super().get_config() | {
            "padding": [list(p) for p in self.padding],
            "data_format": self.data_format,
        }
