"""cnnkit's own sample image: a synthetic test card drawn by code, shipped as a PNG.

The card has something for every classic kernel: a grey ramp and a colour
ramp (gradients), a checkerboard and stripes of rising frequency (edges in both
directions, aliasing under strides), a zone plate (every orientation at once),
flat shapes with sharp outlines, and text. Regenerate the shipped file with
``python scripts/make_test_card.py``. Pillow is imported only inside the
functions, so ``import cnnkit.ops`` stays NumPy-only.
"""

from __future__ import annotations

from importlib import resources

import numpy as np

__all__ = ["TEST_CARD_SIZE", "make_test_card", "sample_image"]

TEST_CARD_SIZE = 256


def sample_image(grayscale: bool = False) -> np.ndarray:
    """The shipped test card as uint8 ``(256, 256, 3)``, or ``(256, 256)`` luma if ``grayscale``."""
    from PIL import Image  # lazy: pillow is a core dependency but not needed by the maths

    with resources.files("cnnkit").joinpath("assets/test_card.png").open("rb") as handle:
        image = Image.open(handle)
        image = image.convert("L" if grayscale else "RGB")
        return np.asarray(image).copy()


def make_test_card(size: int = TEST_CARD_SIZE) -> np.ndarray:
    """Draw the test card: uint8 ``(size, size, 3)``. Deterministic; no randomness."""
    from PIL import Image, ImageDraw

    n = size
    yy, xx = np.mgrid[0:n, 0:n].astype(np.float32) / n
    card = np.full((n, n, 3), 128, dtype=np.float32)
    band = n // 8
    # Row band 1: grey ramp, black to white.
    card[:band] = (xx[:band, :, None] * 255).repeat(3, axis=2)
    # Row band 2: colour ramp around the hue circle.
    hue = xx[band : 2 * band] * 2 * np.pi
    for c, phase in enumerate((0.0, 2 * np.pi / 3, 4 * np.pi / 3)):
        card[band : 2 * band, :, c] = 127.5 + 127.5 * np.cos(hue - phase)
    # Left square: checkerboard of 8-pixel cells.
    q = n // 4
    rows = slice(2 * band, 2 * band + q)
    cells = ((np.arange(q)[:, None] // 8 + np.arange(q)[None, :] // 8) % 2) * 255
    card[rows, :q] = cells[..., None]
    # Next square: vertical stripes whose period shrinks from 16 to 2 pixels.
    u = np.arange(q, dtype=np.float32) / q
    stripes = 127.5 + 127.5 * np.sign(np.sin(2 * np.pi * (4 + 28 * u) * u))
    card[rows, q : 2 * q] = stripes[None, :, None]
    # Next square: horizontal stripes, same sweep.
    card[rows, 2 * q : 3 * q] = stripes[:, None, None]
    # Right square: zone plate, rings whose frequency rises with the radius.
    cy, cx = (2 * band + q / 2) / n, (3 * q + q / 2) / n
    r2 = (yy[rows, 3 * q :] - cy) ** 2 + (xx[rows, 3 * q :] - cx) ** 2
    card[rows, 3 * q :] = (127.5 + 127.5 * np.cos(np.pi * n * 2.0 * r2))[..., None]
    # Bottom half: vertical dark-to-light gradient behind flat shapes.
    bottom = slice(2 * band + q, n)
    card[bottom] = (40 + 120 * yy[bottom])[..., None]
    image = Image.fromarray(np.clip(np.rint(card), 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(image)
    top = 2 * band + q
    unit = n / 16
    draw.ellipse([unit, top + unit, 5 * unit, top + 5 * unit], fill=(230, 60, 50))
    draw.rectangle(
        [6 * unit, top + unit, 10 * unit, top + 5 * unit], outline=(255, 255, 255), width=3
    )
    draw.polygon(
        [(13 * unit, top + unit), (11 * unit, top + 5 * unit), (15 * unit, top + 5 * unit)],
        fill=(40, 120, 230),
    )
    draw.text((unit, top + 5.6 * unit), "cnnkit test card", fill=(255, 255, 255))
    draw.text((unit, top + 6.4 * unit), "every number explained", fill=(255, 230, 0))
    return np.asarray(image).copy()
