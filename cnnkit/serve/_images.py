"""Uploaded image bytes -> one uint8 image ``(H, W, C)`` at the model's input size.

Uploads come from strangers' files, so decoding is bounded: the pixel count is
read from the header and refused before any pixel is decoded (decompression
bombs), and every Pillow failure (not an image, truncated data) becomes a
``ValueError`` in the project's error template, which the app answers with 400.
"""

from __future__ import annotations

import io
import warnings

import numpy as np

from cnnkit._errors import invalid_value

__all__ = ["MAX_PIXELS", "decode_image"]

#: Largest upload accepted, in pixels (width × height): a 24-megapixel photo.
MAX_PIXELS = 24_000_000

_MODES = {1: "L", 3: "RGB", 4: "RGBA"}


def decode_image(
    data: bytes, size: tuple[int, int], channels: int, *, max_pixels: int = MAX_PIXELS
) -> np.ndarray:
    """Decode, orient, convert and resize an uploaded image.

    Args:
        data: The file's bytes (PNG, JPEG, GIF, BMP, WebP, ... anything Pillow reads).
        size: ``(height, width)`` of the model input.
        channels: 1 (grey), 3 (RGB) or 4 (RGBA).
        max_pixels: Refuse images with more pixels than this. Default 24 million.

    Returns:
        ``(height, width, channels)`` uint8; the model does its own rescaling.

    Raises:
        ValueError: empty data, not an image, truncated, or too many pixels.
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    mode = _MODES.get(channels)
    if mode is None:
        raise invalid_value(
            "The model's input must have 1, 3 or 4 channels to take an image.",
            received={"channels": channels},
        )
    if not data:
        raise invalid_value("The upload is empty.", expected="an image file", received={"bytes": 0})
    try:
        with warnings.catch_warnings():
            # Pillow's own bomb check warns first; here any such warning is an error.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as img:
                width, height = img.size
                if width * height > max_pixels:
                    raise invalid_value(
                        "The image has too many pixels to decode.",
                        expected=f"at most {max_pixels:,} pixels (width × height)",
                        received={"size": f"{width}×{height}"},
                    )
                # In place: the copying form copies every image, rotated or not (~30% of
                # the decode time of a 28×28 PNG). Same-size images skip the resize copy.
                ImageOps.exif_transpose(img, in_place=True)
                img = img.convert(mode) if img.mode != mode else img
                if img.size != (size[1], size[0]):
                    img = img.resize((size[1], size[0]), Image.Resampling.BILINEAR)
                return np.array(img, dtype=np.uint8).reshape(size[0], size[1], channels)
    except UnidentifiedImageError as err:
        raise invalid_value(
            "The upload is not an image Pillow can read.",
            expected="a PNG, JPEG, GIF, BMP or WebP file",
            received={"bytes": len(data), "starts_with": data[:8]},
        ) from err
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as err:
        raise invalid_value(
            "The image has too many pixels to decode (a decompression bomb?).",
            expected=f"at most {max_pixels:,} pixels",
            received={"error": str(err)[:120]},
        ) from err
    except (OSError, SyntaxError, EOFError) as err:  # truncated or corrupt pixel data
        raise invalid_value(
            "The image is truncated or corrupt and cannot be decoded.",
            received={"bytes": len(data), "error": str(err)[:120]},
        ) from err
