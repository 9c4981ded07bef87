"""The issue's error list for correlate2d / convolve2d: each message checked."""

from __future__ import annotations

import numpy as np
import pytest

from cnnkit.ops import convolve2d, correlate2d

IMG = np.zeros((5, 5))
K3 = np.ones((3, 3))


@pytest.mark.parametrize("fn", [correlate2d, convolve2d])
@pytest.mark.parametrize(
    ("args", "kwargs", "error", "match"),
    [
        ((IMG, np.ones((6, 6))), {}, ValueError, r"the kernel is larger than the padded input"),
        ((IMG, K3), {"dilation": 3}, ValueError, r"kernel is larger than the padded input"),
        ((IMG, K3), {"strides": 0}, ValueError, r"`strides` must be a positive integer.*strides=0"),
        ((IMG, K3), {"strides": (1, -1)}, ValueError, r"`strides` must be a positive integer"),
        ((IMG, K3), {"dilation": 0}, ValueError, r"`dilation` must be a positive integer"),
        (
            (np.zeros((5, 5, 3)), np.ones((3, 3, 2))),
            {},
            ValueError,
            r"channel axis does not match.*kernel.shape\[2\] == 3",
        ),
        ((IMG, np.ones((3, 3, 2, 4))), {}, ValueError, r"kernel.shape\[2\] == 1"),
        ((np.array([["a"] * 5] * 5), K3), {}, TypeError, r"`x` must hold numbers.*dtype='<U1'"),
        ((IMG.astype(object), K3), {}, TypeError, r"`x` must hold numbers"),
        ((IMG, np.array([["1"] * 3] * 3)), {}, TypeError, r"`kernel` must hold numbers"),
        ((np.zeros(5), K3), {}, ValueError, r"2-D \(H, W\) or 3-D \(H, W, C\).*x.shape=\(5,\)"),
        ((np.zeros((1, 5, 5, 3)), K3), {}, ValueError, r"pass one image, not a batch"),
        ((IMG, np.ones(3)), {}, ValueError, r"`kernel` must be \(kh, kw\)"),
        ((IMG, np.ones((0, 3))), {}, ValueError, r"`kernel` must be \(kh, kw\)"),
        ((np.zeros((0, 4)), K3), {}, ValueError, r"`x` is empty"),
        (
            (IMG, K3),
            {"padding": "smae"},
            ValueError,
            r"unknown padding 'smae'.*Valid choices: 'valid', 'same', 'full'",
        ),
        ((IMG, K3), {"padding": ((1, 1), (1,))}, ValueError, r"pair \(rows, cols\)"),
        ((IMG, K3), {"padding": -1}, ValueError, r"`padding` must not be negative"),
        ((IMG, K3), {"strides": 1.0}, TypeError, r"`strides` must be an integer"),
    ],
)
def test_errors(fn, args, kwargs, error, match):
    with pytest.raises(error, match=match):
        fn(*args, **kwargs)


def test_a_large_kernel_fits_once_padded():
    # The control for the first error case: "same" padding makes the 6×6 kernel fit.
    assert correlate2d(IMG, np.ones((6, 6)), padding="same").shape == (5, 5)


def test_error_names_the_function():
    with pytest.raises(ValueError, match=r"^convolve2d: `strides`"):
        convolve2d(IMG, K3, strides=0)
