"""Numerics of the layers added for Keras courses, against plain torch or NumPy references."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from cnnkit.layers import (
    ELU,
    AveragePooling1D,
    Conv2D,
    Conv2DTranspose,
    GlobalAveragePooling1D,
    GlobalMaxPooling1D,
    LayerNormalization,
    MaxPooling1D,
    Multiply,
    PReLU,
    Resizing,
    Softmax,
    UpSampling2D,
)

RNG = np.random.default_rng(0)


def nhwc(*shape: int) -> torch.Tensor:
    return torch.from_numpy(RNG.standard_normal(shape).astype(np.float32))


def close(a: torch.Tensor, b: torch.Tensor, tol: float = 1e-5) -> None:
    torch.testing.assert_close(a, b, rtol=tol, atol=tol)


def to_nchw(x: torch.Tensor) -> torch.Tensor:
    return x.permute(0, 3, 1, 2)


def test_softmax_one_and_several_axes():
    x = nhwc(2, 3, 4, 5)
    close(Softmax()(x), torch.softmax(x, dim=-1))
    close(Softmax(axis=1)(x), torch.softmax(x, dim=1))
    e = np.exp(x.numpy().astype(np.float64))
    ref = e / e.sum(axis=(1, 2), keepdims=True)
    close(Softmax(axis=[1, 2])(x), torch.from_numpy(ref).float())


def test_elu_and_prelu_match_torch():
    x = nhwc(2, 4, 4, 3)
    close(ELU(alpha=0.7)(x), nn.ELU(0.7)(x))
    layer = PReLU(shared_axes=[1, 2], alpha_initializer="random_uniform")
    y = layer(x)
    assert tuple(layer.alpha.shape) == (1, 1, 3) and layer.count_params() == 3
    ref = nn.PReLU(3)
    with torch.no_grad():
        ref.weight.copy_(layer.alpha.view(3))
    close(y, ref(to_nchw(x)).permute(0, 2, 3, 1))
    full = PReLU()
    full(x)
    assert tuple(full.alpha.shape) == (4, 4, 3)  # one slope per element by default
    assert full.param_formula() == "4×4×3 = 48"
    close(full(x), torch.relu(x))  # zeros initializer: starts as ReLU


def test_upsampling_nearest_and_bilinear():
    x = nhwc(2, 3, 4, 2)
    y = UpSampling2D(size=(2, 3))(x)
    close(y, x.repeat_interleave(2, dim=1).repeat_interleave(3, dim=2))
    assert UpSampling2D(size=(2, 3)).output_size_formula((None, 3, 4, 2)) == (
        "H: 3 × 2 = 6; W: 4 × 3 = 12"
    )
    assert UpSampling2D().output_size_formula((None, 5, 5, 2)) == "5 × 2 = 10"
    up = nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False)
    close(UpSampling2D(2, interpolation="bilinear")(x), up(to_nchw(x)).permute(0, 2, 3, 1))


def _half_pixel_bilinear(img: np.ndarray, out_h: int, out_w: int) -> np.ndarray:
    """Independent reference: tf.image.resize(bilinear, half-pixel centres) without antialias."""
    h, w = img.shape[1:3]
    res = np.zeros((img.shape[0], out_h, out_w, img.shape[3]))
    for i in range(out_h):
        for j in range(out_w):
            fy = min(max((i + 0.5) * h / out_h - 0.5, 0), h - 1)
            fx = min(max((j + 0.5) * w / out_w - 0.5, 0), w - 1)
            y0, x0 = int(np.floor(fy)), int(np.floor(fx))
            y1, x1 = min(y0 + 1, h - 1), min(x0 + 1, w - 1)
            dy, dx = fy - y0, fx - x0
            res[:, i, j] = (
                img[:, y0, x0] * (1 - dy) * (1 - dx)
                + img[:, y0, x1] * (1 - dy) * dx
                + img[:, y1, x0] * dy * (1 - dx)
                + img[:, y1, x1] * dy * dx
            )
    return res


def test_resizing_matches_half_pixel_references():
    x = nhwc(2, 4, 6, 3)
    close(Resizing(7, 9)(x), torch.from_numpy(_half_pixel_bilinear(x.numpy(), 7, 9)).float())
    # Nearest with half-pixel centres picks rows 1 and 3 of 4 when halving (TF2 behaviour).
    y = Resizing(2, 3, interpolation="nearest")(x)
    close(y, x[:, [1, 3]][:, :, [1, 3, 5]])
    # crop_to_aspect_ratio: a 4×6 image to 2×2 first takes the centred 4×4 window.
    y = Resizing(2, 2, crop_to_aspect_ratio=True, interpolation="nearest")(x)
    close(y, x[:, [1, 3]][:, :, [2, 4]])


@pytest.mark.parametrize(("k", "s", "d"), [(3, 2, 1), (4, 2, 1), (3, 1, 2), (2, 3, 1)])
def test_conv_transpose_valid_matches_torch(k, s, d):
    x = nhwc(2, 5, 4, 3)
    layer = Conv2DTranspose(6, k, strides=s, dilation_rate=d, bias_initializer="random_normal")
    y = layer(x)
    ref = nn.ConvTranspose2d(3, 6, k, stride=s, dilation=d, bias=False)
    with torch.no_grad():
        ref.weight.copy_(layer.kernel)
        full = ref(to_nchw(x))
    keff = k + (k - 1) * (d - 1)
    # Keras keeps n·s + max(k_eff − s, 0) rows: past the full result only the bias is left.
    extra = max(0, s - keff)
    full = torch.nn.functional.pad(full, [0, extra, 0, extra])
    expected = (full + layer.bias.view(1, -1, 1, 1)).permute(0, 2, 3, 1)
    close(y, expected)
    assert layer.compute_output_shape((None, 5, 4, 3)) == (None, *y.shape[1:])
    assert layer.get_weights()[0].shape == (k, k, 6, 3)  # Keras (kh, kw, filters, in)


@pytest.mark.parametrize(("k", "s"), [(3, 2), (4, 2), (5, 3), (2, 3), (3, 1)])
def test_conv_transpose_same_is_the_adjoint_of_tf_same_conv(k, s):
    """<conv(x), y> = <x, convT(y)>: the defining property of Keras' "same" transpose."""
    n_in = 7
    conv = Conv2D(
        4, k, strides=s, padding="same", use_bias=False, input_shape=(n_in * s, n_in * s, 3)
    )
    convt = Conv2DTranspose(3, k, strides=s, padding="same", use_bias=False)
    x = nhwc(1, n_in * s, n_in * s, 3)
    y = nhwc(1, n_in, n_in, 4)
    convt(y)
    convt.set_weights(conv.get_weights())  # the same Keras-layout kernel array
    assert conv(x).shape == y.shape
    lhs = (conv(x) * y).sum()
    rhs = (x * convt(y)).sum()
    close(lhs, rhs, tol=1e-3)


def test_conv_transpose_output_padding_matches_torch():
    x = nhwc(1, 4, 4, 2)
    layer = Conv2DTranspose(3, 3, strides=2, padding="same", output_padding=1)
    y = layer(x)
    ref = nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1, output_padding=1)
    with torch.no_grad():
        ref.weight.copy_(layer.weight)
        ref.bias.copy_(layer.bias)
    close(y, ref(to_nchw(x)).permute(0, 2, 3, 1))
    assert y.shape == (1, 8, 8, 3)
    assert layer.macs((None, 4, 4, 2), (None, 8, 8, 3)) == 16 * 2 * 3 * 9


def test_pooling_1d_matches_torch():
    x = torch.from_numpy(RNG.standard_normal((2, 9, 3)).astype(np.float32))
    ncl = x.permute(0, 2, 1)
    close(MaxPooling1D()(x), nn.MaxPool1d(2)(ncl).permute(0, 2, 1))
    close(MaxPooling1D(3, strides=2)(x), nn.MaxPool1d(3, 2)(ncl).permute(0, 2, 1))
    close(AveragePooling1D(3)(x), nn.AvgPool1d(3)(ncl).permute(0, 2, 1))
    # "same": 9 steps, window 2 -> 5 outputs; the last window holds one real value.
    y = AveragePooling1D(2, padding="same")(x)
    assert y.shape == (2, 5, 3)
    close(y[:, -1], x[:, -1])
    close(GlobalAveragePooling1D()(x), x.mean(dim=1))
    close(GlobalMaxPooling1D(keepdims=True)(x), x.amax(dim=1, keepdim=True))


def test_layer_normalization_matches_torch():
    x = nhwc(2, 3, 4, 5)
    layer = LayerNormalization(gamma_initializer="random_normal", beta_initializer="random_normal")
    ref = nn.LayerNorm(5, eps=1e-3)
    y = layer(x)
    with torch.no_grad():
        ref.weight.copy_(layer.weight)
        ref.bias.copy_(layer.bias)
    close(y, ref(x))
    whole = LayerNormalization(axis=[1, 2, 3])
    close(whole(x), nn.LayerNorm((3, 4, 5), eps=1e-3)(x))
    inner = LayerNormalization(axis=[1, 2], center=False)  # not trailing: the manual path
    xs = x.numpy().astype(np.float64)
    ref = (xs - xs.mean(axis=(1, 2), keepdims=True)) / np.sqrt(
        xs.var(axis=(1, 2), keepdims=True) + 1e-3
    )
    close(inner(x), torch.from_numpy(ref).float(), tol=1e-4)
    assert inner.bias is None and tuple(inner.weight.shape) == (3, 4)
    assert layer.param_formula() == "2 × 5 = 10"


def test_multiply_is_the_elementwise_product():
    a, b, c = nhwc(2, 3, 3, 2), nhwc(2, 3, 3, 2), nhwc(2, 3, 3, 2)
    close(Multiply()([a, b, c]), a * b * c)
    assert Multiply().macs([(None, 3, 3, 2)] * 3, (None, 3, 3, 2)) == 2 * 18


@settings(max_examples=30, deadline=None)
@given(
    n=st.integers(1, 7),
    k=st.integers(1, 5),
    s=st.integers(1, 3),
    d=st.integers(1, 2),
    padding=st.sampled_from(["valid", "same"]),
    with_output_padding=st.booleans(),
)
def test_conv_transpose_inferred_shape_is_keras_deconv_length(
    n, k, s, d, padding, with_output_padding
):
    """Keras' ``deconv_output_length``, written out independently, and the real forward."""
    op = s - 1 if with_output_padding else None
    layer = Conv2DTranspose(2, k, strides=s, dilation_rate=d, padding=padding, output_padding=op)
    keff = k + (k - 1) * (d - 1)
    if op is None:
        length = n * s if padding == "same" else n * s + max(keff - s, 0)
    else:
        pad = keff // 2 if padding == "same" else 0
        length = (n - 1) * s + keff - 2 * pad + op
    expected = layer.compute_output_shape((None, n, n, 3))
    assert expected == (None, length, length, 2)
    assert tuple(layer(torch.randn(1, n, n, 3)).shape) == (1, length, length, 2)
