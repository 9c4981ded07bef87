"""Resampling layers: ``UpSampling2D`` (repeat by a factor) and ``Resizing`` (to a size).

Both run one ``F.interpolate`` on the free channels-first view of the batch.
Bilinear resampling uses half-pixel centres without anti-aliasing, which is what
Keras (``tf.image.resize``/``keras.ops.image.resize``) does when enlarging.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from cnnkit._errors import unknown_name
from cnnkit.layers._args import normalize_data_format, normalize_tuple, positive_int
from cnnkit.layers._base import InputSpec, Layer
from cnnkit.layers._spatial import (
    channel_axis,
    join_shape,
    spatial_of,
    to_channels_first,
    to_channels_last,
)

__all__ = ["Resizing", "UpSampling2D"]

_INTERPOLATIONS = ("nearest", "bilinear", "bicubic")
_NHWC = "(batch, height, width, channels)"
_NCHW = "(batch, channels, height, width)"


def _interpolation(value: Any, layer: str) -> str:
    if value not in _INTERPOLATIONS:
        raise unknown_name(f"interpolation for {layer}", value, _INTERPOLATIONS,
                           argument="interpolation")  # fmt: skip
    return value


def _resize(x: torch.Tensor, size: tuple[int, int], mode: str) -> torch.Tensor:
    """Resize a channels-first batch with half-pixel centres, as Keras/TensorFlow 2 do.

    Nearest therefore reads input pixel ``floor((i + 0.5) · in / out)`` (torch's
    ``"nearest-exact"``; torch's legacy ``"nearest"`` would read ``floor(i · in / out)``).
    """
    if mode == "nearest":
        return F.interpolate(x, size=size, mode="nearest-exact")
    return F.interpolate(x, size=size, mode=mode, align_corners=False, antialias=False)


class UpSampling2D(Layer):
    """Repeat rows and columns: ``(batch, H, W, C)`` -> ``(batch, H·sh, W·sw, C)``.

    Args:
        size: ``s`` or ``(sh, sw)``; default ``(2, 2)``.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        interpolation: ``"nearest"`` (default, plain repetition) or ``"bilinear"``/``"bicubic"``.
    """

    def __init__(
        self,
        size: Any = (2, 2),
        data_format: str | None = None,
        interpolation: str = "nearest",
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        who = f"UpSampling2D '{self.name}'"
        self.size = normalize_tuple(size, 2, "size", who)
        self.data_format = normalize_data_format(data_format, who)
        self.interpolation = _interpolation(interpolation, who)
        layout = _NCHW if self.data_format == "channels_first" else _NHWC
        self.input_spec = InputSpec(ndim=4, layout=layout)
        self.build_from_config_shape()

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        self.check_input_shape(input_shape)
        spatial = spatial_of(input_shape, self.data_format)
        out = [None if n is None else n * s for n, s in zip(spatial, self.size, strict=True)]
        channels = input_shape[channel_axis(self.data_format)]
        return join_shape(input_shape[0], out, channels, self.data_format)

    def call(self, inputs: torch.Tensor, training: bool | None = None) -> torch.Tensor:
        x = to_channels_first(inputs, self.data_format)
        size = (x.shape[2] * self.size[0], x.shape[3] * self.size[1])
        return to_channels_last(_resize(x, size, self.interpolation), self.data_format)

    def output_size_formula(self, input_shape: tuple) -> str | None:
        h, w = spatial_of(input_shape, self.data_format)
        if h is None or w is None:
            return None
        parts = [f"{n} × {s} = {n * s}" for n, s in zip((h, w), self.size, strict=True)]
        return parts[0] if parts[0] == parts[1] else f"H: {parts[0]}; W: {parts[1]}"

    def get_config(self) -> dict[str, Any]:
        return super().get_config() | {
            "size": list(self.size),
            "data_format": self.data_format,
            "interpolation": self.interpolation,
        }


class Resizing(Layer):
    """Resize images to ``(height, width)``: ``(batch, H, W, C)`` -> ``(batch, height, width, C)``.

    Args:
        height, width: Output size.
        interpolation: ``"bilinear"`` (default), ``"nearest"`` or ``"bicubic"``.
        crop_to_aspect_ratio: Centre-crop the largest window with the target's aspect
            ratio first, so the image is not distorted (default False).
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
    """

    def __init__(
        self,
        height: int,
        width: int,
        interpolation: str = "bilinear",
        crop_to_aspect_ratio: bool = False,
        data_format: str | None = None,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        who = f"Resizing '{self.name}'"
        self.height = positive_int(height, "height", who)
        self.width = positive_int(width, "width", who)
        self.interpolation = _interpolation(interpolation, who)
        self.crop_to_aspect_ratio = bool(crop_to_aspect_ratio)
        self.data_format = normalize_data_format(data_format, who)
        layout = _NCHW if self.data_format == "channels_first" else _NHWC
        self.input_spec = InputSpec(ndim=4, layout=layout)
        self.build_from_config_shape()

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        self.check_input_shape(input_shape)
        channels = input_shape[channel_axis(self.data_format)]
        return join_shape(input_shape[0], (self.height, self.width), channels, self.data_format)

    def _crop_window(self, h: int, w: int) -> tuple[int, int, int, int]:
        """``(top, left, crop_h, crop_w)`` of the centred window with the target aspect ratio."""
        crop_h = min(h, round(w * self.height / self.width))
        crop_w = min(w, round(h * self.width / self.height))
        return (h - crop_h) // 2, (w - crop_w) // 2, crop_h, crop_w

    def call(self, inputs: torch.Tensor, training: bool | None = None) -> torch.Tensor:
        x = to_channels_first(inputs, self.data_format)
        if self.crop_to_aspect_ratio:
            top, left, ch, cw = self._crop_window(x.shape[2], x.shape[3])
            x = x[:, :, top : top + ch, left : left + cw]
        y = _resize(x, (self.height, self.width), self.interpolation)
        return to_channels_last(y, self.data_format)

    def get_config(self) -> dict[str, Any]:
        return super().get_config() | {
            "height": self.height,
            "width": self.width,
            "interpolation": self.interpolation,
            "crop_to_aspect_ratio": self.crop_to_aspect_ratio,
            "data_format": self.data_format,
        }
