"""Cropping2D, GaussianNoise, GaussianDropout (and bilinear UpSampling2D) against NumPy/torch."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from cnnkit.layers import (
    Cropping2D,
    GaussianDropout,
    GaussianNoise,
    Input,
    UpSampling2D,
    ZeroPadding2D,
)
from cnnkit.models import Sequential

RNG = np.random.default_rng(7)


def test_cropping_matches_numpy_slicing_in_both_layouts_and_undoes_padding():
    x = RNG.normal(size=(2, 9, 8, 3)).astype(np.float32)
    crop = Cropping2D(((2, 1), (3, 0)))
    np.testing.assert_array_equal(crop(torch.from_numpy(x)).numpy(), x[:, 2:-1, 3:, :])
    first = Cropping2D(1, data_format="channels_first")
    nchw = x.transpose(0, 3, 1, 2).copy()
    np.testing.assert_array_equal(first(torch.from_numpy(nchw)).numpy(), nchw[:, :, 1:-1, 1:-1])
    padded = ZeroPadding2D(((2, 1), (3, 0)))(torch.from_numpy(x))
    np.testing.assert_array_equal(crop(padded).numpy(), x)


def test_cropping_shapes_formula_and_config():
    model = Sequential([Input(shape=(32, 32, 1)), Cropping2D(2)])
    assert model.output_shape == (None, 28, 28, 1)
    layer = model.layers[-1]
    assert layer.output_size_formula((None, 32, 32, 1)) == "32 − 2 − 2 = 28"
    assert Cropping2D((1, 2)).output_size_formula((None, 8, 8, 1)) == (
        "H: 8 − 1 − 1 = 6; W: 8 − 2 − 2 = 4"
    )
    rebuilt = Cropping2D.from_config(layer.get_config())
    assert rebuilt.cropping == ((2, 2), (2, 2))


def test_cropping_errors_name_the_argument():
    with pytest.raises(ValueError, match=r"`cropping` must be a non-negative int.*cropping=-1"):
        Cropping2D(-1)
    with pytest.raises(ValueError, match=r"cropping 3 \+ 3 leaves no height of 6"):
        Sequential([Input(shape=(6, 10, 1)), Cropping2D(3)])
    with pytest.raises(ValueError, match=r"leaves no width of 4"):
        Cropping2D((0, 2))(torch.zeros(1, 8, 4, 1))


def test_gaussian_noise_adds_seeded_normal_noise_only_in_training():
    x = torch.rand(4, 16, 16, 2)
    layer = GaussianNoise(0.3)
    layer.eval()
    assert layer(x) is x
    torch.manual_seed(11)
    got = layer(x, training=True)
    torch.manual_seed(11)
    torch.testing.assert_close(got, x + 0.3 * torch.randn_like(x))
    noise = layer(torch.zeros(200_000), training=True)
    assert abs(noise.mean().item()) < 0.005 and noise.std().item() == pytest.approx(0.3, rel=0.02)


def test_gaussian_dropout_keeps_the_mean_with_dropouts_variance():
    rate = 0.2
    layer = GaussianDropout(rate)
    x = torch.ones(200_000)
    assert torch.equal(layer(x, training=False), x)
    y = layer(x, training=True)
    assert y.mean().item() == pytest.approx(1.0, abs=0.005)
    assert y.var().item() == pytest.approx(rate / (1 - rate), rel=0.02)
    torch.manual_seed(3)
    got = layer(x[:10], training=True)
    torch.manual_seed(3)
    torch.testing.assert_close(got, x[:10] * (1 + math.sqrt(0.25) * torch.randn(10)))


def test_noise_layer_arguments_are_checked():
    with pytest.raises(ValueError, match=r"GaussianNoise.*`stddev` must be a number >= 0"):
        GaussianNoise(-0.1)
    with pytest.raises(ValueError, match=r"GaussianDropout.*`rate` must be a number in \[0, 1\)"):
        GaussianDropout(1.0)
    assert GaussianDropout.from_config(GaussianDropout(0.1).get_config()).rate == 0.1


def test_bilinear_upsampling_hand_worked_half_pixel_values():
    # TF/Keras half-pixel centres: output column j samples input x = (j + 0.5) / 2 - 0.5,
    # clamped: 0, 0.25, 0.75, 1 of the way from the first to the second pixel.
    x = torch.tensor([[0.0, 1.0], [2.0, 3.0]]).reshape(1, 2, 2, 1)
    y = UpSampling2D(2, interpolation="bilinear")(x)[0, :, :, 0]
    np.testing.assert_allclose(y[0].numpy(), [0.0, 0.25, 0.75, 1.0])
    np.testing.assert_allclose(y[:, 0].numpy(), [0.0, 0.5, 1.5, 2.0])
