"""Layers against the NumPy reference ``cnnkit.ops`` (the course's by-hand arithmetic)."""

from __future__ import annotations

import numpy as np
import pytest

from cnnkit import ops
from cnnkit.layers import AveragePooling2D, Conv2D, DepthwiseConv2D, MaxPooling2D

RNG = np.random.default_rng(7)


def _per_sample(fn, x: np.ndarray) -> np.ndarray:
    return np.stack([fn(sample) for sample in x])


@pytest.mark.parametrize(
    "kwargs",
    [
        {"kernel_size": 3},
        {"kernel_size": 2, "strides": 2, "padding": "same"},  # even kernel, stride 2
        {"kernel_size": 4, "strides": 2, "padding": "same"},
        {"kernel_size": (3, 2), "strides": (2, 3), "padding": "same"},
        {"kernel_size": 3, "dilation_rate": 2, "padding": "same"},
        {"kernel_size": 3, "padding": ((0, 2), (1, 0))},
    ],
)
def test_conv2d_matches_ops_correlate2d(kwargs):
    x = RNG.standard_normal((2, 7, 8, 3)).astype(np.float32)
    layer = Conv2D(4, **kwargs)
    y = layer(x).detach().numpy()
    kernel, bias = layer.get_weights()  # Keras (kh, kw, C, F): ops' filter-bank layout
    ref = _per_sample(
        lambda s: ops.correlate2d(
            s, kernel, layer.strides, kwargs.get("padding", "valid"), layer.dilation_rate
        ),
        x,
    )
    np.testing.assert_allclose(y, ref + bias, rtol=1e-5, atol=1e-5)


def test_depthwise_matches_ops_per_channel_kernels():
    x = RNG.standard_normal((2, 7, 7, 3)).astype(np.float32)
    layer = DepthwiseConv2D(2, strides=2, padding="same", depth_multiplier=2)
    y = layer(x).detach().numpy()
    kernel, bias = layer.get_weights()  # (kh, kw, C, m)
    for c in range(3):
        for j in range(2):
            ref = _per_sample(
                lambda s, c=c, j=j: ops.correlate2d(s[..., c], kernel[:, :, c, j], 2, "same"), x
            )
            np.testing.assert_allclose(
                y[..., c * 2 + j], ref + bias[c * 2 + j], rtol=1e-5, atol=1e-5
            )


@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize(("pool", "strides"), [(2, None), (3, 2), ((2, 3), (1, 2))])
@pytest.mark.parametrize("mode", ["max", "avg"])
def test_pooling_matches_ops_pool2d(padding, pool, strides, mode):
    x = RNG.standard_normal((2, 7, 9, 3)).astype(np.float32)
    cls = MaxPooling2D if mode == "max" else AveragePooling2D
    y = cls(pool, strides, padding=padding)(x).numpy()
    ref = _per_sample(lambda s: ops.pool2d(s, pool, strides, padding, mode), x)
    np.testing.assert_allclose(y, ref, rtol=1e-5, atol=1e-6)
