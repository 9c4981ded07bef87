"""Layers that denoising and generative models use: ``Cropping2D``, ``GaussianNoise``,
``GaussianDropout``.

``Cropping2D`` is the inverse of ``ZeroPadding2D`` (it trims a decoder's 32x32
back to 28x28, say). The noise layers act only in training, like ``Dropout``:
``GaussianNoise`` adds ``N(0, stddev²)`` (the corruption of a denoising
autoencoder), ``GaussianDropout`` multiplies by ``N(1, rate / (1 - rate))``
(Srivastava et al.'s multiplicative Gaussian noise, the same mean and variance
as dropout's mask). Random draws come from torch's generator, so
``set_random_seed`` repeats them.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from cnnkit._errors import invalid_value
from cnnkit.layers._args import normalize_data_format, normalize_padding
from cnnkit.layers._base import InputSpec, Layer
from cnnkit.layers._spatial import channel_axis, join_shape, spatial_of

__all__ = ["Cropping2D", "GaussianDropout", "GaussianNoise"]


class Cropping2D(Layer):
    """Remove rows and columns at the image borders.

    ``(batch, H, W, C)`` -> ``(batch, H - top - bottom, W - left - right, C)``.

    Args:
        cropping: ``c`` (all sides), ``(ch, cw)`` (symmetric per axis) or
            ``((top, bottom), (left, right))``; default ``((0, 0), (0, 0))``.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
    """

    def __init__(
        self, cropping: Any = ((0, 0), (0, 0)), data_format: str | None = None, **kwargs: Any
    ):
        super().__init__(**kwargs)
        who = f"Cropping2D '{self.name}'"
        try:
            self.cropping = normalize_padding(cropping, 2, who, names=())
        except ValueError:
            raise invalid_value(
                f"{who}: `cropping` must be a non-negative int, 2 ints, or 2 "
                "(before, after) pairs.",
                received={"cropping": cropping},
            ) from None
        self.data_format = normalize_data_format(data_format, who)
        layout = (
            "(batch, channels, height, width)"
            if self.data_format == "channels_first"
            else "(batch, height, width, channels)"
        )
        self.input_spec = InputSpec(ndim=4, layout=layout)
        self.build_from_config_shape()

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        self.check_input_shape(input_shape)
        sizes = spatial_of(input_shape, self.data_format)
        out = []
        for axis, n, (b, a) in zip(("height", "width"), sizes, self.cropping, strict=True):
            if n is not None and n - b - a < 1:
                raise invalid_value(
                    f"Cropping2D '{self.name}': cropping {b} + {a} leaves no {axis} of {n}.",
                    expected=f"top + bottom / left + right < the input {axis}",
                    received={"cropping": [list(p) for p in self.cropping], axis: n},
                )
            out.append(None if n is None else n - b - a)
        channels = input_shape[channel_axis(self.data_format)]
        return join_shape(input_shape[0], out, channels, self.data_format)

    def call(self, inputs: torch.Tensor, training: bool | None = None) -> torch.Tensor:
        (top, bottom), (left, right) = self.cropping
        h_axis = 1 if self.data_format == "channels_last" else 2
        h, w = inputs.shape[h_axis], inputs.shape[h_axis + 1]
        if h - top - bottom < 1 or w - left - right < 1:
            self.compute_output_shape(join_shape(None, (h, w), None, self.data_format))
        rows = slice(top, h - bottom)
        cols = slice(left, w - right)
        if self.data_format == "channels_last":
            return inputs[:, rows, cols, :]
        return inputs[:, :, rows, cols]

    def output_size_formula(self, input_shape: tuple) -> str | None:
        sizes = spatial_of(input_shape, self.data_format)
        if None in sizes:
            return None
        parts = [
            f"{n} − {b} − {a} = {n - b - a}" for n, (b, a) in zip(sizes, self.cropping, strict=True)
        ]
        return parts[0] if parts[0] == parts[1] else f"H: {parts[0]}; W: {parts[1]}"

    def get_config(self) -> dict[str, Any]:
        return super().get_config() | {
            "cropping": [list(p) for p in self.cropping],
            "data_format": self.data_format,
        }


def _non_negative(value: Any, arg: str, who: str, below_one: bool = False) -> float:
    bad = isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0
    if bad or (below_one and value >= 1):
        raise invalid_value(
            f"{who}: `{arg}` must be a number in [0, 1)."
            if below_one
            else f"{who}: `{arg}` must be a number >= 0.",
            received={arg: value},
        )
    return float(value)


class GaussianNoise(Layer):
    """Add zero-mean Gaussian noise of standard deviation ``stddev`` during training only.

    Args:
        stddev: Standard deviation of the noise (>= 0).
        seed: Accepted for Keras compatibility; use ``set_random_seed`` to repeat draws.
    """

    def __init__(self, stddev: float, seed: int | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        self.stddev = _non_negative(stddev, "stddev", f"GaussianNoise '{self.name}'")
        self.seed = seed
        self.build_from_config_shape()

    def call(self, inputs: torch.Tensor, training: bool | None = None) -> torch.Tensor:
        active = self.training if training is None else training
        if not active or self.stddev == 0:
            return inputs
        return inputs + self.stddev * torch.randn_like(inputs)

    def get_config(self) -> dict[str, Any]:
        return super().get_config() | {"stddev": self.stddev, "seed": self.seed}


class GaussianDropout(Layer):
    """Multiply by noise ``N(1, rate / (1 - rate))`` during training only (mean kept at 1).

    Args:
        rate: Drop probability of the equivalent dropout, in [0, 1).
        seed: Accepted for Keras compatibility; use ``set_random_seed`` to repeat draws.
    """

    def __init__(self, rate: float, seed: int | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        who = f"GaussianDropout '{self.name}'"
        self.rate = _non_negative(rate, "rate", who, below_one=True)
        self.seed = seed
        self.build_from_config_shape()

    def call(self, inputs: torch.Tensor, training: bool | None = None) -> torch.Tensor:
        active = self.training if training is None else training
        if not active or self.rate == 0:
            return inputs
        stddev = math.sqrt(self.rate / (1.0 - self.rate))
        return inputs * (1.0 + stddev * torch.randn_like(inputs))

    def get_config(self) -> dict[str, Any]:
        return super().get_config() | {"rate": self.rate, "seed": self.seed}
