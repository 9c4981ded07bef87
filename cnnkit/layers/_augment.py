"""Random augmentation layers, active only in training, one batched op per call.

``RandomFlip`` selects between the image and its flip with one ``torch.where``;
``RandomRotation``, ``RandomZoom`` and ``RandomTranslation`` build one affine
matrix per image and warp the whole batch with a single
``affine_grid``/``grid_sample`` call, never looping over images. In inference
(``model.eval()`` or ``training=False``) they return their input unchanged.
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F

from cnnkit._errors import invalid_value, unknown_name
from cnnkit.layers._base import InputSpec, Layer

__all__ = ["RandomFlip", "RandomRotation", "RandomTranslation", "RandomZoom"]

_FILL_MODES = {"reflect": "reflection", "nearest": "border", "constant": "zeros"}
_INTERPOLATIONS = ("bilinear", "nearest")
_FLIP_MODES = ("horizontal", "vertical", "horizontal_and_vertical")


def _factor_range(
    value: Any, argument: str, layer: str, bound: float | None
) -> tuple[float, float]:
    """Keras' factor: ``f`` means ``(−f, f)``; a pair is ``(lower, upper)``."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        low, high = -abs(float(value)), abs(float(value))
    elif isinstance(value, (list, tuple)) and len(value) == 2:
        low, high = float(value[0]), float(value[1])
    else:
        raise invalid_value(
            f"{layer}: `{argument}` must be a number or a (lower, upper) pair.",
            received={argument: value},
        )
    if low > high or (bound is not None and (low < -bound or high > bound)):
        raise invalid_value(
            f"{layer}: `{argument}` must satisfy lower <= upper"
            + (f" within [{-bound}, {bound}]." if bound is not None else "."),
            received={argument: value},
        )
    return low, high


class _RandomLayer(Layer):
    """Training-only switch, seeded generator, and the 4-D image input check."""

    def __init__(self, seed: int | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        self.seed = seed
        self._generator = None if seed is None else torch.Generator().manual_seed(int(seed))
        self.input_spec = InputSpec(ndim=4, layout="(batch, height, width, channels)")

    def _uniform(self, n: int, low: float, high: float, device: torch.device) -> torch.Tensor:
        """``n`` draws from ``U(low, high)`` (drawn on the CPU so a seed is device-independent)."""
        draws = torch.rand(n, generator=self._generator) * (high - low) + low
        return draws.to(device)

    def call(self, inputs: torch.Tensor, training: bool | None = None) -> torch.Tensor:
        active = self.training if training is None else training
        if not active:
            return inputs
        return self._augment(inputs)

    def _augment(self, inputs: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def get_config(self) -> dict[str, Any]:
        return super().get_config() | {"seed": self.seed}


class RandomFlip(_RandomLayer):
    """Flip each image with probability 1/2 per direction.

    Args:
        mode: ``"horizontal"``, ``"vertical"`` or ``"horizontal_and_vertical"`` (default).
        seed: Optional seed for a layer-private generator.
    """

    def __init__(
        self, mode: str = "horizontal_and_vertical", seed: int | None = None, **kwargs: Any
    ):
        super().__init__(seed=seed, **kwargs)
        if mode not in _FLIP_MODES:
            raise unknown_name("RandomFlip mode", mode, _FLIP_MODES, argument="mode")
        self.mode = mode
        self.build_from_config_shape()

    def _augment(self, inputs: torch.Tensor) -> torch.Tensor:
        x = inputs
        n = x.shape[0]
        for direction, axis in (("horizontal", 2), ("vertical", 1)):
            if direction in self.mode:
                flip = (self._uniform(n, 0, 1, x.device) < 0.5).view(n, 1, 1, 1)
                x = torch.where(flip, x.flip(axis), x)
        return x

    def get_config(self) -> dict[str, Any]:
        return super().get_config() | {"mode": self.mode}


class _AffineLayer(_RandomLayer):
    """Warps a batch by per-image affine maps from output to input pixel coordinates."""

    def __init__(
        self,
        fill_mode: str = "reflect",
        interpolation: str = "bilinear",
        seed: int | None = None,
        fill_value: float = 0.0,
        **kwargs: Any,
    ):
        super().__init__(seed=seed, **kwargs)
        who = type(self).__name__
        if fill_mode not in _FILL_MODES:
            raise unknown_name(f"{who} fill_mode", fill_mode, _FILL_MODES, argument="fill_mode")
        if interpolation not in _INTERPOLATIONS:
            raise unknown_name(
                f"{who} interpolation", interpolation, _INTERPOLATIONS, argument="interpolation"
            )
        self.fill_mode, self.interpolation = fill_mode, interpolation
        self.fill_value = float(fill_value)

    def _matrices(self, n: int, height: int, width: int, device: torch.device) -> torch.Tensor:
        """``(n, 2, 3)`` maps from output to input pixel offsets about the image centre."""
        raise NotImplementedError

    def _augment(self, inputs: torch.Tensor) -> torch.Tensor:
        n, h, w, _ = inputs.shape
        pixel = self._matrices(n, h, w, inputs.device).to(inputs.dtype)
        # affine_grid works in [-1, 1] coordinates: theta = S⁻¹·A·S with S = diag(w/2, h/2).
        scale = inputs.new_tensor([w / 2, h / 2])
        theta = torch.empty(n, 2, 3, dtype=inputs.dtype, device=inputs.device)
        theta[:, :, :2] = pixel[:, :, :2] * scale.view(1, 1, 2) / scale.view(1, 2, 1)
        theta[:, :, 2] = pixel[:, :, 2] / scale.view(1, 2)
        x = inputs.permute(0, 3, 1, 2)  # free NCHW view of channels-last memory
        grid = F.affine_grid(theta, list(x.shape), align_corners=False)
        shift = self.fill_value if self.fill_mode == "constant" else 0.0
        out = F.grid_sample(
            x - shift,
            grid,
            mode=self.interpolation,
            padding_mode=_FILL_MODES[self.fill_mode],
            align_corners=False,
        )
        if shift:
            out = out + shift
        # grid_sample returns NCHW-contiguous memory; one copy back to channels-last keeps
        # every later layer on the fast channels_last path.
        return out.permute(0, 2, 3, 1).contiguous()

    def get_config(self) -> dict[str, Any]:
        return super().get_config() | {
            "fill_mode": self.fill_mode,
            "interpolation": self.interpolation,
            "fill_value": self.fill_value,
        }


class RandomRotation(_AffineLayer):
    """Rotate each image by a random angle, counter-clockwise for positive factors.

    Args:
        factor: Fraction of a full turn: ``f`` draws from ``[−f·2π, f·2π]``,
            ``(lower, upper)`` from ``[lower·2π, upper·2π]``.
        fill_mode: ``"reflect"`` (default), ``"nearest"`` or ``"constant"``.
        interpolation: ``"bilinear"`` (default) or ``"nearest"``.
        seed: Optional seed. fill_value: Used with ``"constant"`` (default 0).
    """

    def __init__(self, factor: Any, **kwargs: Any):
        super().__init__(**kwargs)
        self.factor = _factor_range(factor, "factor", "RandomRotation", None)
        self.build_from_config_shape()

    def _matrices(self, n: int, height: int, width: int, device: torch.device) -> torch.Tensor:
        angle = self._uniform(n, *self.factor, device) * (2 * math.pi)
        cos, sin = torch.cos(angle), torch.sin(angle)
        zero = torch.zeros_like(angle)
        # Rows point down, so a counter-clockwise turn of the picture samples the input
        # at the output position turned clockwise in (x, y-down) coordinates.
        return torch.stack(
            [torch.stack([cos, -sin, zero], -1), torch.stack([sin, cos, zero], -1)], 1
        )

    def get_config(self) -> dict[str, Any]:
        return super().get_config() | {"factor": list(self.factor)}


class RandomZoom(_AffineLayer):
    """Zoom each image by a random amount; positive factors zoom out (Keras' convention).

    Args:
        height_factor: ``f`` draws the vertical zoom from ``[−f, f]``; a pair is
            ``(lower, upper)``; the zoomed image shows ``1 + z`` times the height.
        width_factor: Same for the width; None (default) keeps the aspect ratio.
        fill_mode, interpolation, seed, fill_value: As :class:`RandomRotation`.
    """

    def __init__(self, height_factor: Any, width_factor: Any = None, **kwargs: Any):
        super().__init__(**kwargs)
        self.height_factor = _factor_range(height_factor, "height_factor", "RandomZoom", None)
        self.width_factor = (
            None
            if width_factor is None
            else _factor_range(width_factor, "width_factor", "RandomZoom", None)
        )
        if self.height_factor[0] <= -1 or (self.width_factor and self.width_factor[0] <= -1):
            raise invalid_value(
                "RandomZoom: zoom factors must be > -1 (a factor of -1 would zoom in infinitely).",
                received={"height_factor": height_factor, "width_factor": width_factor},
            )
        self.build_from_config_shape()

    def _matrices(self, n: int, height: int, width: int, device: torch.device) -> torch.Tensor:
        zoom_h = 1 + self._uniform(n, *self.height_factor, device)
        zoom_w = (
            zoom_h
            if self.width_factor is None
            else 1 + self._uniform(n, *self.width_factor, device)
        )
        zero = torch.zeros_like(zoom_h)
        return torch.stack(
            [torch.stack([zoom_w, zero, zero], -1), torch.stack([zero, zoom_h, zero], -1)], 1
        )

    def get_config(self) -> dict[str, Any]:
        width = None if self.width_factor is None else list(self.width_factor)
        return super().get_config() | {
            "height_factor": list(self.height_factor),
            "width_factor": width,
        }


class RandomTranslation(_AffineLayer):
    """Shift each image by a random fraction of its size (positive: down / right).

    Args:
        height_factor: ``f`` draws the vertical shift from ``[−f, f]`` × height.
        width_factor: Same for the horizontal shift × width.
        fill_mode, interpolation, seed, fill_value: As :class:`RandomRotation`.
    """

    def __init__(self, height_factor: Any, width_factor: Any, **kwargs: Any):
        super().__init__(**kwargs)
        self.height_factor = _factor_range(height_factor, "height_factor", "RandomTranslation", 1)
        self.width_factor = _factor_range(width_factor, "width_factor", "RandomTranslation", 1)
        self.build_from_config_shape()

    def _matrices(self, n: int, height: int, width: int, device: torch.device) -> torch.Tensor:
        dy = self._uniform(n, *self.height_factor, device) * height
        dx = self._uniform(n, *self.width_factor, device) * width
        one, zero = torch.ones_like(dx), torch.zeros_like(dx)
        return torch.stack(
            [torch.stack([one, zero, -dx], -1), torch.stack([zero, one, -dy], -1)], 1
        )

    def get_config(self) -> dict[str, Any]:
        return super().get_config() | {
            "height_factor": list(self.height_factor),
            "width_factor": list(self.width_factor),
        }
