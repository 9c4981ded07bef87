"""Filtering a real photo with a named or custom kernel into a displayable uint8 image."""

from __future__ import annotations

from typing import Any

import numpy as np

from cnnkit._errors import invalid_value
from cnnkit.ops._checks import as_image, check_choice
from cnnkit.ops._correlate import as_kernel, correlate2d
from cnnkit.ops._kernels import kernel as named_kernel

__all__ = ["SCALES", "apply_kernel", "suggested_scale", "to_grayscale"]

SCALES = ("clip", "rescale", "abs")

# ITU-R BT.601 luma weights, the ones Pillow's convert("L") uses.
_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)


def to_grayscale(image: Any) -> np.ndarray:
    """``(H, W, 3 or 4)`` RGB(A) -> ``(H, W)`` float32 luma ``0.299 R + 0.587 G + 0.114 B``.

    A ``(H, W)`` or ``(H, W, 1)`` image is returned as float32 ``(H, W)``.
    """
    x = as_image(image, "image", "to_grayscale")
    if x.ndim == 2:
        return x.astype(np.float32)
    if x.shape[2] == 1:
        return x[..., 0].astype(np.float32)
    if x.shape[2] not in (3, 4):
        raise invalid_value(
            "to_grayscale: `image` must be grayscale, RGB or RGBA.",
            expected="1, 3 or 4 channels",
            received={"image.shape": x.shape},
        )
    return x[..., :3].astype(np.float32) @ _LUMA


def suggested_scale(kernel: Any) -> str:
    """``"abs"`` for kernels summing to 0 (edges, high-pass: centred on 0), else ``"clip"``."""
    k = named_kernel(kernel) if isinstance(kernel, str) else as_kernel(kernel, "suggested_scale")
    return "abs" if abs(float(np.sum(k))) < 1e-6 * max(1.0, float(np.abs(k).sum())) else "clip"


def apply_kernel(
    image: Any,
    name_or_kernel: str | Any,
    *,
    scale: str,
    grayscale: bool = False,
    padding: Any = "same",
) -> np.ndarray:
    """Filter a photo and return a displayable uint8 image.

    Args:
        image: ``(H, W)`` or ``(H, W, C)`` on a 0–255 scale (e.g. a uint8 photo).
            With ``C == 4`` the alpha channel is passed through unfiltered (and
            dropped when ``padding`` changes the size).
        name_or_kernel: A name from :data:`cnnkit.ops.KERNELS` or a 2-D array.
        scale: How filter outputs become 0–255, chosen explicitly because the
            right choice depends on the kernel:
            ``"clip"`` rounds and clips to 0–255 (blur, sharpen: outputs already
            in range); ``"rescale"`` maps the result's min..max linearly onto
            0..255 (any kernel; a constant result becomes 0); ``"abs"`` takes the
            magnitude and clips it (edge detectors: both edge polarities show as
            bright). :func:`suggested_scale` proposes one.
        grayscale: Convert RGB(A) to luma first (see :func:`to_grayscale`); default False.
        padding: As for :func:`cnnkit.ops.correlate2d`; default ``"same"`` keeps the size.

    Returns:
        ``(oh, ow)`` or ``(oh, ow, C)`` uint8, each channel filtered separately.
        NaN results become 0.
    """
    check_choice(scale, SCALES, "scale", "scale")
    k = named_kernel(name_or_kernel) if isinstance(name_or_kernel, str) else name_or_kernel
    k = as_kernel(k, "apply_kernel")
    if k.ndim != 2:
        raise invalid_value(
            "apply_kernel: `name_or_kernel` must be a 2-D kernel; it is applied to each channel.",
            expected="a kernel name or a (kh, kw) array",
            received={"kernel.shape": k.shape},
        )
    x = as_image(image, "image", "apply_kernel")
    alpha = None
    if grayscale:
        x = to_grayscale(x)
    elif x.ndim == 3 and x.shape[2] == 4:
        x, alpha = x[..., :3], x[..., 3:]
    # float32 halves memory traffic; 24 bits of mantissa are ample for 8-bit photos.
    result = correlate2d(x.astype(np.float32, copy=False), k.astype(np.float32), padding=padding)
    out = _to_uint8(result, scale)
    if alpha is not None and alpha.shape[:2] == out.shape[:2]:
        out = np.concatenate([out, alpha.astype(np.uint8)], axis=2)
    return out


def _to_uint8(values: np.ndarray, scale: str) -> np.ndarray:
    values = np.nan_to_num(values, nan=0.0, posinf=255.0, neginf=0.0)
    if scale == "abs":
        values = np.abs(values)
    elif scale == "rescale":
        low, high = float(values.min()), float(values.max())
        values = (values - low) * (255.0 / (high - low)) if high > low else np.zeros_like(values)
    return np.clip(np.rint(values), 0, 255).astype(np.uint8)
