"""Keras' single-image helpers: ``load_img``, ``img_to_array``, ``array_to_img``, ``save_img``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from cnnkit._errors import invalid_value, unknown_name
from cnnkit.data._decode import CHANNELS, DecodeSpec, crop_box, resample_filter, to_mode

__all__ = ["array_to_img", "img_to_array", "load_img", "save_img"]

_PIL_NAMES = {
    "nearest": "nearest",
    "bilinear": "bilinear",
    "bicubic": "bicubic",
    "lanczos": "lanczos3",
    "box": "area",
}


def load_img(
    path: str | Path,
    color_mode: str = "rgb",
    target_size: tuple[int, int] | None = None,
    interpolation: str = "nearest",
    keep_aspect_ratio: bool = False,
) -> Image.Image:
    """Open an image file as a Pillow image, converted and optionally resized.

    Args:
        path: The file.
        color_mode: ``"rgb"`` (default), ``"grayscale"`` or ``"rgba"``.
        target_size: ``(height, width)``, or None to keep the size.
        interpolation: ``"nearest"`` (default, as Keras), ``"bilinear"``,
            ``"bicubic"``, ``"lanczos"`` or ``"box"``.
        keep_aspect_ratio: Centre-crop to the target aspect ratio first.
    """
    if color_mode not in CHANNELS:
        raise unknown_name("color_mode", color_mode, CHANNELS, argument="color_mode")
    if interpolation not in _PIL_NAMES:
        raise unknown_name("interpolation", interpolation, _PIL_NAMES, argument="interpolation")
    with Image.open(path) as img:
        img = to_mode(img, color_mode)
        img.load()
    if target_size is not None:
        h, w = target_size
        spec = DecodeSpec(h, w, color_mode, _PIL_NAMES[interpolation], keep_aspect_ratio)
        box = crop_box(*img.size, spec) if keep_aspect_ratio else None
        if (w, h) != img.size or box is not None:
            img = img.resize((w, h), resample_filter(spec.interpolation), box)
    return img


def img_to_array(img: Image.Image, data_format: str | None = None, dtype: Any = None) -> np.ndarray:
    """A Pillow image as a float32 array ``(height, width, channels)``."""
    if data_format not in (None, "channels_last"):
        raise invalid_value(
            "img_to_array: only data_format='channels_last' is supported.",
            received={"data_format": data_format},
        )
    arr = np.asarray(img, dtype=dtype or np.float32)
    return arr[:, :, None] if arr.ndim == 2 else arr


def array_to_img(
    x: Any, data_format: str | None = None, scale: bool = True, dtype: Any = None
) -> Image.Image:
    """An array ``(height, width, 1|3|4)`` as a Pillow image.

    Args:
        x: The image; torch tensors and NumPy arrays are accepted.
        scale: Stretch the values to 0..255 first (Keras' default).
    """
    del dtype
    if data_format not in (None, "channels_last"):
        raise invalid_value(
            "array_to_img: only data_format='channels_last' is supported.",
            received={"data_format": data_format},
        )
    arr = np.asarray(x.detach().cpu() if hasattr(x, "detach") else x, dtype=np.float64)
    if arr.ndim != 3 or arr.shape[2] not in (1, 3, 4):
        raise invalid_value(
            "array_to_img: expected an image of shape (height, width, 1, 3 or 4).",
            received={"shape": arr.shape},
        )
    if scale:
        arr = arr - arr.min()
        top = arr.max()
        arr = arr / top * 255.0 if top > 0 else arr
    arr = np.clip(np.rint(arr), 0, 255).astype(np.uint8)
    mode = {1: "L", 3: "RGB", 4: "RGBA"}[arr.shape[2]]
    return Image.fromarray(arr[:, :, 0] if mode == "L" else arr, mode)


def save_img(
    path: str | Path,
    x: Any,
    data_format: str | None = None,
    file_format: str | None = None,
    scale: bool = True,
    **kwargs: Any,
) -> None:
    """Save an array as an image file (format from the extension unless ``file_format``)."""
    array_to_img(x, data_format=data_format, scale=scale).save(path, format=file_format, **kwargs)
