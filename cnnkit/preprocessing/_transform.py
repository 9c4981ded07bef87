"""Random affine augmentation of whole batches with ``affine_grid``/``grid_sample``.

The geometry follows Keras' ``ImageDataGenerator`` exactly: per image, the
matrix ``rotation · shift · shear · zoom`` acts on (row, column) pixel
coordinates about the image centre and maps each *output* pixel to the input
position it samples. Here that matrix is converted once per batch into the
normalised ``theta`` that ``affine_grid`` expects (x = column, y = row;
``align_corners=False`` puts pixel centres at ``(2i + 1) / size - 1``), flips
are folded into it, and one ``grid_sample`` call warps the whole batch.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

__all__ = [
    "FILL_MODES",
    "Augment",
    "TransformParams",
    "augment_batch",
    "params_to_theta",
    "sample_params",
    "warp",
]

# Keras fill_mode -> grid_sample padding (wrap: coordinates are wrapped first)
FILL_MODES = {"constant": "zeros", "nearest": "border", "reflect": "reflection", "wrap": "border"}


@dataclass(frozen=True)
class Augment:
    """The random transforms of an ``ImageDataGenerator`` (Keras argument meanings).

    Attributes:
        rotation_range: Degrees; angle ~ U(-r, r).
        width_shift_range, height_shift_range: float < 1: fraction of the size;
            float >= 1: pixels; int: whole pixels in (-r, r); sequence: one of its
            values with a random sign.
        shear_range: Degrees, counter-clockwise.
        zoom_range: ``(lower, upper)``; each axis' factor ~ U(lower, upper),
            factors < 1 zoom in.
        horizontal_flip, vertical_flip: Flip with probability 1/2.
        fill_mode: ``"constant"``, ``"nearest"``, ``"reflect"`` or ``"wrap"``.
        cval: The value outside the image for ``"constant"``.
        channel_shift_range: Add U(-r, r) to every channel, clipped to the
            image's own min..max.
        brightness_range: ``(lower, upper)`` factor, result clipped to 0..255.
        interpolation: ``"bilinear"`` (Keras' order 1) or ``"nearest"`` (order 0).
    """

    rotation_range: float = 0.0
    width_shift_range: Any = 0.0
    height_shift_range: Any = 0.0
    shear_range: float = 0.0
    zoom_range: tuple[float, float] = (1.0, 1.0)
    horizontal_flip: bool = False
    vertical_flip: bool = False
    fill_mode: str = "nearest"
    cval: float = 0.0
    channel_shift_range: float = 0.0
    brightness_range: tuple[float, float] | None = None
    interpolation: str = "bilinear"

    @property
    def geometric(self) -> bool:
        return bool(
            self.rotation_range
            or _nonzero(self.width_shift_range)
            or _nonzero(self.height_shift_range)
            or self.shear_range
            or tuple(self.zoom_range) != (1.0, 1.0)
        )


def _nonzero(spec: Any) -> bool:
    return bool(np.any(np.asarray(spec, dtype=float) != 0))


def _shifts(rng: np.random.Generator, spec: Any, n: int, size: int) -> np.ndarray:
    """Per-image shifts in pixels, as Keras draws them."""
    if not _nonzero(spec):
        return np.zeros(n)
    if isinstance(spec, (list, tuple, np.ndarray)):
        values = rng.choice(np.asarray(spec, dtype=float), n) * rng.choice([-1.0, 1.0], n)
    elif isinstance(spec, (int, np.integer)):
        values = rng.integers(-int(spec) + 1, int(spec), n).astype(float)
    else:
        values = rng.uniform(-spec, spec, n)
    if np.max(np.abs(np.asarray(spec, dtype=float))) < 1:
        values = values * size  # a fraction of the image size
    return values


@dataclass(frozen=True)
class TransformParams:
    """One batch's per-image parameters, arrays of length n (angles in radians)."""

    theta: np.ndarray
    tx: np.ndarray  # row shift in pixels
    ty: np.ndarray  # column shift in pixels
    shear: np.ndarray
    zx: np.ndarray  # row zoom factor
    zy: np.ndarray  # column zoom factor
    flip_h: np.ndarray  # bool
    flip_v: np.ndarray  # bool


def sample_params(
    aug: Augment, rng: np.random.Generator, n: int, h: int, w: int
) -> TransformParams:
    """Draw every image's parameters at once, with Keras' distributions."""
    zoomed = tuple(aug.zoom_range) != (1.0, 1.0)
    zx, zy = rng.uniform(*aug.zoom_range, (2, n)) if zoomed else np.ones((2, n))
    return TransformParams(
        theta=np.deg2rad(rng.uniform(-aug.rotation_range, aug.rotation_range, n)),
        tx=_shifts(rng, aug.height_shift_range, n, h),
        ty=_shifts(rng, aug.width_shift_range, n, w),
        shear=np.deg2rad(rng.uniform(-aug.shear_range, aug.shear_range, n)),
        zx=zx,
        zy=zy,
        flip_h=rng.random(n) < 0.5 if aug.horizontal_flip else np.zeros(n, bool),
        flip_v=rng.random(n) < 0.5 if aug.vertical_flip else np.zeros(n, bool),
    )


def params_to_theta(p: TransformParams, h: int, w: int) -> np.ndarray:
    """``(n, 2, 3)`` affine_grid matrices for Keras' transform ``R·T·Shear·Zoom`` and flips."""
    n = p.theta.shape[0]
    c, s = np.cos(p.theta), np.sin(p.theta)
    rot = np.stack([np.stack([c, -s], -1), np.stack([s, c], -1)], -2)
    shear = np.stack(
        [
            np.stack([np.ones(n), -np.sin(p.shear)], -1),
            np.stack([np.zeros(n), np.cos(p.shear)], -1),
        ],
        -2,
    )
    zoom = np.zeros((n, 2, 2))
    zoom[:, 0, 0], zoom[:, 1, 1] = p.zx, p.zy
    a = rot @ shear @ zoom  # acts on (row, col) pixel offsets from the centre
    t = (rot @ np.stack([p.tx, p.ty], -1)[..., None])[..., 0]
    # to normalised offsets (divide by the half sizes d), then (row, col) -> (x, y)
    d = np.array([h / 2.0, w / 2.0])
    a_n = a * d[None, None, :] / d[None, :, None]
    out = np.empty((n, 2, 3))
    out[:, :, :2] = a_n[:, ::-1, ::-1]
    out[:, :, 2] = (t / d)[:, ::-1]
    # a flip after the warp mirrors the output axis: negate that column
    out[:, :, 0] *= np.where(p.flip_h, -1.0, 1.0)[:, None]
    out[:, :, 1] *= np.where(p.flip_v, -1.0, 1.0)[:, None]
    return out


def _sampling_grid(theta: torch.Tensor, h: int, w: int) -> torch.Tensor:
    """``affine_grid(theta, (n, c, h, w), align_corners=False)``, built from two outer sums.

    The grid is affine in the pixel-centre coordinates, so each of its two planes
    is a per-image column term plus a row term: two broadcast adds instead of
    ``affine_grid``'s ``(n, h*w, 3) @ (3, 2)`` product (several times slower on CPU).
    """
    n, dtype = theta.shape[0], theta.dtype
    cols = (torch.arange(w, dtype=dtype) * 2 + 1) / w - 1  # pixel centres, normalised
    rows = (torch.arange(h, dtype=dtype) * 2 + 1) / h - 1
    grid = torch.empty(n, h, w, 2, dtype=dtype)
    for k in range(2):  # k = 0: x (column) plane, 1: y (row) plane
        col_term = theta[:, k, 0, None] * cols  # (n, w)
        row_term = theta[:, k, 1, None] * rows + theta[:, k, 2, None]  # (n, h)
        torch.add(col_term[:, None, :], row_term[:, :, None], out=grid[..., k])
    return grid


def warp(
    x: torch.Tensor, theta: np.ndarray, aug: Augment, scale: float | None = None
) -> torch.Tensor:
    """Resample NHWC ``x`` by ``affine_grid`` matrices ``theta`` with ``aug``'s fill and filter.

    Args:
        x: ``(n, height, width, channels)``, uint8 or floating point.
        theta: ``(n, 2, 3)`` matrices from :func:`params_to_theta`.
        aug: Supplies the fill mode, ``cval`` and interpolation.
        scale: Multiply the result by this; it rides on the copy back to NHWC
            memory, which happens anyway.

    Returns:
        A contiguous NHWC float tensor (float32 for uint8 input, else ``x``'s dtype).
    """
    n, h, w, ch = x.shape
    dtype = x.dtype if x.is_floating_point() else torch.float32
    # NHWC memory is channels_last NCHW: the permute is free and the cast keeps it.
    nchw = x.permute(0, 3, 1, 2).to(dtype)
    grid = _sampling_grid(torch.from_numpy(theta).to(dtype), h, w)
    if aug.fill_mode == "wrap":
        grid = torch.remainder(grid + 1.0, 2.0) - 1.0
    mode = "nearest" if aug.interpolation == "nearest" else "bilinear"
    padding = FILL_MODES[aug.fill_mode]
    out = F.grid_sample(nchw, grid, mode=mode, padding_mode=padding, align_corners=False)
    if aug.fill_mode == "constant" and aug.cval:
        ones = torch.ones(n, 1, h, w, dtype=dtype)
        inside = F.grid_sample(ones, grid, mode=mode, padding_mode="zeros", align_corners=False)
        out = out.add_(aug.cval * (1.0 - inside))
    nhwc = out.permute(0, 2, 3, 1)
    if scale is None:
        return nhwc.contiguous()
    # The copy back to NHWC memory has to happen anyway: let it multiply on the way.
    return torch.mul(nhwc, scale, out=torch.empty(n, h, w, ch, dtype=dtype))


def augment_batch(
    x: torch.Tensor, aug: Augment, rng: np.random.Generator, scale: float | None = None
) -> torch.Tensor:
    """Apply ``aug``'s random transforms to a batch ``(n, height, width, channels)``.

    Every image gets its own random parameters, drawn from ``rng`` as whole
    arrays; the warp is one ``grid_sample`` over the batch.

    Args:
        x: uint8 or floating-point NHWC batch.
        aug: The transforms.
        rng: Source of the random parameters.
        scale: Multiply the result by this (Keras' ``rescale``, which follows the
            transforms). Where no channel shift or brightness change (both clip to
            the 0..255 range) comes after the warp, it is folded into the warp's
            conversion to float: no pass of its own.

    Returns:
        A contiguous NHWC float tensor (float32 for uint8 input, else ``x``'s dtype).
    """
    n, h, w, _ = x.shape
    clips = bool(aug.channel_shift_range) or aug.brightness_range is not None
    folded = scale if aug.geometric and not clips else None
    if aug.geometric:
        x = warp(x, params_to_theta(sample_params(aug, rng, n, h, w), h, w), aug, folded)
    else:
        x = x if x.is_floating_point() else x.to(torch.float32)
        if aug.horizontal_flip:  # flips alone are exact index reversals, no resampling
            x = torch.where(
                torch.from_numpy(rng.random(n) < 0.5)[:, None, None, None], x.flip(2), x
            )
        if aug.vertical_flip:
            x = torch.where(
                torch.from_numpy(rng.random(n) < 0.5)[:, None, None, None], x.flip(1), x
            )
    if aug.channel_shift_range:
        shift = torch.from_numpy(rng.uniform(-1, 1, n) * aug.channel_shift_range).to(x)
        lo = x.amin(dim=(1, 2, 3), keepdim=True)
        hi = x.amax(dim=(1, 2, 3), keepdim=True)
        x = torch.clamp(x + shift[:, None, None, None], lo, hi)
    if aug.brightness_range is not None:
        factor = torch.from_numpy(rng.uniform(*aug.brightness_range, n)).to(x)
        x = torch.clamp(x * factor[:, None, None, None], 0.0, 255.0)
    if scale is not None and folded is None:
        x = x * scale
    return x.contiguous()
