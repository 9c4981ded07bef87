"""Overlays and figures: real PNGs with the image, heatmap, class and probability."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from cnnkit.explain import cam_result, overlay, plot_cam, plot_cam_grid
from tests.explain.conftest import blob_images


def test_overlay_blends_colour_over_the_image():
    image = np.full((4, 5, 3), 200, np.uint8)
    heat = np.zeros((4, 5))
    heat[1, 2] = 1.0
    out = overlay(image, heat, alpha=0.5)
    assert out.shape == (4, 5, 3) and out.dtype == np.uint8
    # jet: 0 is dark blue, 1 dark red; the hot pixel is redder than a cold one.
    assert out[1, 2, 0] > out[0, 0, 0] and out[1, 2, 2] < out[0, 0, 2]
    np.testing.assert_array_equal(overlay(image, heat, alpha=0.0), image)
    grey = overlay(np.full((4, 5), 0.5), heat, alpha=0.0)
    np.testing.assert_array_equal(grey, np.full((4, 5, 3), 128, np.uint8))


def test_plot_cam_and_grid_write_pngs(tmp_path, trained_cnn):
    x, _ = blob_images(3, seed=21)
    result = cam_result(trained_cnn, x)
    single = tmp_path / "one.png"
    fig = plot_cam(
        x[0],
        result.maps[0],
        class_name="quadrant 1",
        probability=0.9,
        method="gradcam",
        path=single,
    )
    assert fig.axes[2].get_title() == "quadrant 1 p=0.900"
    grid = tmp_path / "grid.png"
    maps = {m: cam_result(trained_cnn, x, method=m).maps for m in ("gradcam", "eigencam")}
    plot_cam_grid(
        x, maps, class_names=["a", "b", "c"], probabilities=result.probabilities, path=grid
    )
    for path in (single, grid):
        with Image.open(path) as png:
            assert png.format == "PNG" and png.width > 300


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: overlay(np.zeros((4, 4)), np.zeros((3, 4))), r"image's height and width"),
        (lambda: overlay(np.zeros((4, 4, 2)), np.zeros((4, 4))), r"image must be \(H, W\)"),
        (lambda: overlay(np.zeros((4, 4)), np.zeros((4, 4)), alpha=2), r"`alpha` must be in"),
        (lambda: overlay(np.zeros((4, 4)), np.zeros((4, 4)), colormap="jett"), r"colormap"),
        (lambda: plot_cam_grid(np.zeros((2, 4, 4)), {}), r"at least one method"),
        (lambda: plot_cam_grid(np.zeros((2, 4, 4)), {"g": np.zeros((1, 4, 4))}), r"1 maps for 2"),
        (
            lambda: plot_cam_grid(
                np.zeros((2, 4, 4)), {"g": np.zeros((2, 4, 4))}, class_names=["a"]
            ),
            r"`class_names` needs one entry per image",
        ),
    ],
)
def test_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()
