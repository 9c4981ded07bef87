"""Named kernels, apply_kernel on real photos, the shipped test card, and import hygiene."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from cnnkit.ops import (
    KERNELS,
    apply_kernel,
    correlate2d,
    kernel,
    kernel_description,
    make_test_card,
    sample_image,
    suggested_scale,
    to_grayscale,
)
from tests.conftest import REPO_ROOT

REQUIRED = [
    "identity",
    "edge_vertical",
    "edge_horizontal",
    "edge_diagonal",
    "laplacian_4",
    "laplacian_8",
    "sharpen",
    "box_blur",
    "gaussian_3x3",
    "gaussian_5x5",
    "sobel_x",
    "sobel_y",
    "prewitt_x",
    "prewitt_y",
    "high_pass",
]


def test_kernel_table():
    assert set(REQUIRED) <= set(KERNELS)
    for name in KERNELS:
        k = kernel(name)
        assert k.ndim == 2 and k.dtype == np.float64
        assert kernel_description(name)
    for blur in ("box_blur", "gaussian_3x3", "gaussian_5x5", "identity", "sharpen"):
        assert KERNELS[blur].sum() == pytest.approx(1.0)
    for edge in ("sobel_x", "sobel_y", "prewitt_x", "laplacian_4", "laplacian_8", "high_pass"):
        assert KERNELS[edge].sum() == pytest.approx(0.0)
    np.testing.assert_array_equal(kernel("sobel_y"), kernel("sobel_x").T)
    np.testing.assert_allclose(kernel("gaussian_5x5")[2, 2], 36 / 256)


def test_kernels_are_read_only_and_kernel_returns_a_copy():
    with pytest.raises(ValueError, match="read-only"):
        KERNELS["sobel_x"][0, 0] = 5
    with pytest.raises(TypeError):
        KERNELS["mine"] = np.ones((3, 3))  # type: ignore[index]
    k = kernel("sobel_x")
    k[0, 0] = 5
    assert KERNELS["sobel_x"][0, 0] == -1


def test_unknown_kernel_suggests_close_matches():
    with pytest.raises(
        ValueError, match=r"Unknown kernel 'sobel'.*Did you mean 'sobel_[xy]', 'sobel_[xy]'"
    ):
        kernel("sobel")
    with pytest.raises(ValueError, match=r"Unknown kernel 'gausian_3x3'.*'gaussian_3x3'"):
        kernel("gausian_3x3")


def test_identity_and_blur_on_the_test_card():
    card = sample_image()
    assert card.shape == (256, 256, 3) and card.dtype == np.uint8
    np.testing.assert_array_equal(apply_kernel(card, "identity", scale="clip"), card)
    blurred = apply_kernel(card, "gaussian_5x5", scale="clip")
    assert blurred.shape == card.shape

    # Blurring lowers the mean squared difference between neighbouring pixels.
    def roughness(img):
        return np.mean(np.diff(img.astype(float), axis=1) ** 2)

    assert roughness(blurred) < 0.5 * roughness(card)


def test_scales_and_grayscale():
    step = np.zeros((8, 8), dtype=np.uint8)
    step[:, 4:] = 200
    raw = correlate2d(step.astype(float), kernel("sobel_x"), padding="same")
    clipped = apply_kernel(step, "sobel_x", scale="clip")
    np.testing.assert_array_equal(clipped, np.clip(raw, 0, 255).astype(np.uint8))
    magnitude = apply_kernel(step[:, ::-1], "sobel_x", scale="abs")
    assert magnitude.max() == 255 and magnitude[:, 3:5].min() == 255  # negative edge shown too
    rescaled = apply_kernel(step, "sobel_x", scale="rescale")
    assert rescaled.min() == 0 and rescaled.max() == 255
    assert suggested_scale("sobel_x") == "abs" and suggested_scale("gaussian_3x3") == "clip"
    gray = apply_kernel(sample_image(), "box_blur", scale="clip", grayscale=True)
    assert gray.shape == (256, 256)
    np.testing.assert_allclose(to_grayscale([[[255, 0, 0]]]), [[0.299 * 255]], rtol=1e-6)


def test_alpha_channel_passes_through():
    rgba = np.dstack([sample_image(), np.full((256, 256), 7, np.uint8)])
    out = apply_kernel(rgba, "sharpen", scale="clip")
    assert out.shape == (256, 256, 4)
    assert (out[..., 3] == 7).all()


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"scale": "stretch"}, ValueError, r"Unknown scale 'stretch'.*'abs', 'clip', 'rescale'"),
        ({"scale": "clip", "name_or_kernel": np.ones((3, 3, 3))}, ValueError, r"must be a 2-D"),
        ({"scale": "clip", "name_or_kernel": "blur"}, ValueError, r"Unknown kernel 'blur'"),
    ],
)
def test_apply_kernel_errors(kwargs, error, match):
    kwargs.setdefault("name_or_kernel", "sobel_x")
    with pytest.raises(error, match=match):
        apply_kernel(sample_image(), **kwargs)


def test_apply_kernel_needs_an_explicit_scale():
    with pytest.raises(TypeError, match="scale"):
        apply_kernel(sample_image(), "sobel_x")  # type: ignore[call-arg]


def test_apply_kernel_on_a_real_photo(shared_data):
    from PIL import Image

    photos = sorted((shared_data / "cats-vs-dogs").rglob("*.jpg"))
    if not photos:
        pytest.skip("no cats-vs-dogs JPEGs under the shared data folder")
    photo = np.asarray(Image.open(photos[0]).convert("RGB"))
    edges = apply_kernel(photo, "sobel_x", scale="abs", grayscale=True)
    assert edges.shape == photo.shape[:2] and edges.dtype == np.uint8
    assert edges.std() > 1  # a photo has edges
    blurred = apply_kernel(photo, "gaussian_5x5", scale="clip")
    assert blurred.shape == photo.shape
    assert abs(float(blurred.mean()) - float(photo.mean())) < 2  # blur keeps brightness


def test_shipped_card_is_small_and_matches_its_generator():
    path = REPO_ROOT / "cnnkit" / "assets" / "test_card.png"
    assert path.stat().st_size < 200_000
    card = make_test_card()
    shipped = sample_image()
    # The drawn text depends on Pillow's built-in font; everything else must match exactly.
    text_rows = slice(int(256 * 0.75) + 30, 256)
    np.testing.assert_array_equal(card[: text_rows.start], shipped[: text_rows.start])


def test_importing_ops_loads_neither_torch_nor_pillow():
    code = "import sys, cnnkit.ops; print('torch' in sys.modules, 'PIL' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO_ROOT
    )
    assert result.stdout.split() == ["False", "False"]
