"""plot_filters / conv_kernel: which kernel is drawn, how it is scaled and laid out, errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

from cnnkit.layers import Conv2D, Dense, DepthwiseConv2D, Flatten, Input, SeparableConv2D
from cnnkit.models import Sequential
from cnnkit.viz import conv_kernel, plot_filters
from cnnkit.viz._plotting import mosaic, scale_each


def _model(channels: int = 1, filters: int = 6) -> Sequential:
    return Sequential(
        [
            Input((10, 10, channels)),
            Conv2D(filters, 3, activation="relu"),
            Conv2D(4, 3),
            Flatten(),
            Dense(3),
        ]
    )


def _drawn(fig) -> np.ndarray:
    return np.asarray(fig.axes[0].images[0].get_array())


def test_conv_kernel_is_the_keras_layout_kernel_of_the_first_conv():
    model = _model()
    name, kernel = conv_kernel(model)
    assert name == "conv2d"
    np.testing.assert_array_equal(kernel, model.layers[0].get_weights()[0])
    name, kernel = conv_kernel(model, "conv2d_1")
    assert (name, kernel.shape) == ("conv2d_1", (3, 3, 6, 4))


def test_a_layer_object_and_a_bare_layer_are_accepted():
    model = _model()
    second = model.layers[1]
    assert conv_kernel(model, second)[0] == "conv2d_1"
    assert conv_kernel(second)[1].shape == (3, 3, 6, 4)


def test_single_channel_kernels_are_a_square_grid_with_zero_at_mid_gray(tmp_path):
    model = _model(filters=6)
    with torch.no_grad():  # filter 0 gets a known kernel: a vertical edge detector
        model.layers[0].weight[0, 0] = torch.tensor([[-2.0, 0.0, 1.0]] * 3)
    fig = plot_filters(model, path=tmp_path / "f.png")
    drawn = _drawn(fig)
    assert drawn.shape == (2 * 4 - 1, 3 * 4 - 1)  # 6 filters: 2 rows x 3 cols of 3x3 + gaps
    np.testing.assert_allclose(drawn[:3, :3], [[0.0, 0.5, 0.75]] * 3)  # -2 -> 0, 0 -> .5, 1 -> .75
    assert np.isnan(drawn[3, :]).all()  # the gap row between tiles
    with Image.open(tmp_path / "f.png") as png:
        assert png.format == "PNG" and png.size[0] > 100


def test_multi_channel_kernels_are_one_row_per_filter_one_column_per_channel():
    model = _model(filters=6)
    fig = plot_filters(model, "conv2d_1", max_channels=5)
    kernel = model.layers[1].get_weights()[0]  # (3, 3, 6, 4)
    expected = scale_each(kernel[..., :5, :].transpose(3, 0, 1, 2), symmetric=True)
    tiles = expected.transpose(0, 3, 1, 2).reshape(20, 3, 3)
    np.testing.assert_allclose(_drawn(fig), mosaic(tiles, 4, 5), equal_nan=True)
    ticks = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert ticks == ["0", "1", "2", "3"]
    assert "(3, 3, 6, 4)" in fig.axes[0].get_title()


def test_rgb_first_layer_is_drawn_in_colour_each_filter_min_max_scaled():
    model = _model(channels=3, filters=10)
    fig = plot_filters(model, max_filters=4)
    drawn = _drawn(fig)
    assert drawn.shape == (7, 7, 4)  # 4 filters: 2x2 grid of RGBA tiles
    first = model.layers[0].get_weights()[0][..., 0]  # (3, 3, 3)
    span = first.max() - first.min()
    np.testing.assert_allclose(drawn[:3, :3, :3], (first - first.min()) / span, atol=1e-6)
    assert (drawn[3, :, 3] == 0).all()  # transparent gap
    assert "first 4 shown" in fig.axes[0].get_title()


def test_depthwise_separable_and_plain_torch_convolutions():
    depthwise = Sequential([Input((8, 8, 2)), DepthwiseConv2D(3, depth_multiplier=2)])
    assert conv_kernel(depthwise)[1].shape == (3, 3, 1, 4)
    separable = Sequential([Input((8, 8, 2)), SeparableConv2D(5, 3)])
    assert conv_kernel(separable)[1].shape == (3, 3, 1, 2)
    plain = nn.Sequential(nn.Conv2d(3, 7, 5))
    name, kernel = conv_kernel(plain)
    assert (name, kernel.shape) == ("0", (5, 5, 3, 7))


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda m: plot_filters(m, "conv2d_2"), ValueError, r"Unknown layer .*Did you mean"),
        (lambda m: plot_filters(m, "dense"), ValueError, r"'dense' \(Dense\) is not a 2-D conv"),
        (lambda m: plot_filters(m, 3.5), TypeError, r"by its name \(str\)"),
        (lambda m: plot_filters(m, Conv2D(2, 3)), ValueError, r"not part of the model"),
        (lambda m: plot_filters(m, max_filters=0), ValueError, r"`max_filters` must be a pos"),
        (lambda m: plot_filters(m, max_channels=True), TypeError, r"`max_channels` must be"),
        (lambda m: plot_filters("model"), TypeError, r"Received: model_or_layer='str'"),
    ],
)
def test_errors(call, error, match):
    with pytest.raises(error, match=match):
        call(_model())


def test_no_convolution_and_unbuilt_layer_errors():
    dense_only = Sequential([Input((4,)), Dense(2)])
    with pytest.raises(ValueError, match=r"no 2-D convolution layer found in Sequential"):
        plot_filters(dense_only)
    with pytest.raises(ValueError, match=r"'conv2d' has no weights yet"):
        conv_kernel(Sequential([Conv2D(2, 3)]))
