"""Pooling layers against torch.nn.functional and an independent NumPy loop."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cnnkit.layers import (
    AveragePooling2D,
    GlobalAveragePooling2D,
    GlobalMaxPooling2D,
    Input,
    MaxPooling2D,
)
from tests.layers._reference import pool2d_nhwc, tf_same_pads


@pytest.mark.parametrize("cls", [MaxPooling2D, AveragePooling2D])
def test_valid_pooling_matches_torch(cls):
    x = torch.randn(2, 9, 10, 3)
    layer = cls(pool_size=3, strides=2)
    fn = F.max_pool2d if cls is MaxPooling2D else F.avg_pool2d
    ref = fn(x.permute(0, 3, 1, 2), 3, 2).permute(0, 2, 3, 1)
    y = layer(x)
    torch.testing.assert_close(y, ref)
    assert y.is_contiguous()
    assert layer.compute_output_shape((None, 9, 10, 3)) == (None, 4, 4, 3)


def test_strides_default_to_pool_size():
    layer = MaxPooling2D()
    assert layer.strides == (2, 2)
    assert layer(Input(shape=(28, 28, 32))).shape == (None, 14, 14, 32)


@pytest.mark.parametrize(("size", "k", "s"), [(7, 2, 2), (8, 3, 2), (5, 3, 1), (6, 4, 3)])
@pytest.mark.parametrize("mode", ["max", "avg"])
def test_same_pooling_matches_tensorflow_rule(size, k, s, mode):
    """Keras "same": pads bottom/right first; average excludes the padded cells."""
    x = np.random.default_rng(1).standard_normal((2, size, size + 2, 3))
    layer = (MaxPooling2D if mode == "max" else AveragePooling2D)(k, s, padding="same")
    pads = (tf_same_pads(size, k, s), tf_same_pads(size + 2, k, s))
    ref = pool2d_nhwc(x, (k, k), (s, s), pads, mode)
    np.testing.assert_allclose(layer(x).numpy(), ref, rtol=1e-5, atol=1e-6)


def test_torchvision_style_explicit_padding():
    x = torch.randn(2, 11, 11, 4)
    y = MaxPooling2D(3, 2, padding=1)(x)
    ref = F.max_pool2d(x.permute(0, 3, 1, 2), 3, 2, 1).permute(0, 2, 3, 1)
    torch.testing.assert_close(y, ref)
    avg = AveragePooling2D(3, 1, padding=1, count_include_pad=True)(x)
    ref = F.avg_pool2d(x.permute(0, 3, 1, 2), 3, 1, 1, count_include_pad=True)
    torch.testing.assert_close(avg, ref.permute(0, 2, 3, 1))


def test_asymmetric_explicit_padding_include_and_exclude():
    x = np.random.default_rng(2).standard_normal((1, 6, 6, 2))
    pads = ((0, 1), (2, 1))
    for include in (False, True):
        layer = AveragePooling2D(3, 2, padding=pads, count_include_pad=include)
        ref = pool2d_nhwc(x, (3, 3), (2, 2), pads, "avg", include_pad=include)
        np.testing.assert_allclose(layer(x).numpy(), ref, rtol=1e-5, atol=1e-6)
    ref = pool2d_nhwc(x, (3, 3), (2, 2), pads, "max")
    np.testing.assert_allclose(MaxPooling2D(3, 2, padding=pads)(x).numpy(), ref, rtol=1e-6)


def test_pool_padding_wider_than_half_window_uses_explicit_pad():
    x = torch.randn(1, 5, 5, 1)
    y = MaxPooling2D(3, 1, padding=2)(x)  # torch's max_pool2d refuses pad > k/2
    assert y.shape == (1, 7, 7, 1)
    ref = F.max_pool2d(F.pad(x.permute(0, 3, 1, 2), (2,) * 4, value=-float("inf")), 3, 1)
    torch.testing.assert_close(y, ref.permute(0, 2, 3, 1))
    assert torch.isfinite(y).all()


def test_channels_first_pooling():
    x = torch.randn(2, 3, 8, 8)
    y = AveragePooling2D(2, data_format="channels_first")(x)
    torch.testing.assert_close(y, F.avg_pool2d(x, 2))


def test_global_pooling():
    x = torch.randn(2, 5, 6, 7)
    torch.testing.assert_close(GlobalAveragePooling2D()(x), x.mean(dim=(1, 2)))
    torch.testing.assert_close(GlobalMaxPooling2D()(x), x.amax(dim=(1, 2)))
    keep = GlobalAveragePooling2D(keepdims=True)
    assert keep(x).shape == (2, 1, 1, 7)
    assert keep.compute_output_shape((None, 5, 6, 7)) == (None, 1, 1, 7)
    cf = GlobalMaxPooling2D(data_format="channels_first")
    torch.testing.assert_close(cf(x), x.amax(dim=(2, 3)))
    assert cf(Input(shape=(5, 6, 7))).shape == (None, 5)


def test_pooling_formulas_and_no_params():
    layer = AveragePooling2D()
    layer(Input(shape=(28, 28, 6)))
    assert layer.output_size_formula((None, 28, 28, 6)) == "(28 − 2) / 2 + 1 = 14"
    assert layer.count_params() == 0
    assert layer.macs((None, 28, 28, 6), (None, 14, 14, 6)) == 0


def test_gradcheck_average_pooling_excluding_asymmetric_padding():
    layer = AveragePooling2D(3, 2, padding="same")  # 6 → pads (0, 1): the mask-division path
    x = torch.randn(1, 6, 6, 2, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda t: layer(t), (x,))
