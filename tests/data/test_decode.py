"""Single-image decoding: JPEG draft decoding stays close to a full decode."""

from __future__ import annotations

import numpy as np
from PIL import Image

from cnnkit.data._decode import DecodeSpec, decode_image


def _photo_like(path, size=(400, 300)):
    """A smooth gradient with some texture, saved as JPEG (draft decoding applies)."""
    w, h = size
    yy, xx = np.mgrid[0:h, 0:w]
    rgb = np.stack([xx * 255 / w, yy * 255 / h, (xx + yy) % 64 * 4], -1)
    Image.fromarray(rgb.astype(np.uint8)).save(path, quality=95)
    return path


def test_jpeg_draft_is_close_to_a_full_decode(tmp_path):
    path = _photo_like(tmp_path / "p.jpg")
    fast = decode_image(str(path), DecodeSpec(48, 64)).astype(float)
    with Image.open(path) as img:
        full = np.asarray(img.convert("RGB").resize((64, 48), Image.Resampling.BILINEAR))
    assert fast.shape == (48, 64, 3)
    assert 0 < np.abs(fast - full).mean() < 3.0  # decoded at reduced scale, yet close


def test_nearest_decodes_at_full_resolution(tmp_path):
    path = _photo_like(tmp_path / "p.jpg")
    got = decode_image(str(path), DecodeSpec(30, 40, interpolation="nearest"))
    with Image.open(path) as img:
        full = np.asarray(img.convert("RGB").resize((40, 30), Image.Resampling.NEAREST))
    np.testing.assert_array_equal(got, full)
