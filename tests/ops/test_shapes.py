"""Shape and parameter arithmetic: hand examples, TF's "SAME" rule, formulas, errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cnnkit.ops import (
    conv_output_size,
    conv_output_size_formula,
    conv_params,
    conv_params_formula,
    same_padding,
)


@pytest.mark.parametrize(
    ("args", "kwargs", "expected"),
    [
        ((32, 5), {}, 28),  # LeNet-5 C1
        ((6, 3), {"padding": 1}, 6),
        ((7, 3), {"strides": 2}, 3),
        ((7, 3), {"strides": 2, "padding": "same"}, 4),
        ((6, 3), {"padding": "full"}, 8),
        ((6, 3), {"dilation": 2}, 2),
        ((6, 4), {"padding": (1, 2)}, 6),
        ((224, 7), {"strides": 2, "padding": 3}, 112),  # ResNet stem
        ((np.int64(28), np.int32(5)), {}, 24),
    ],
)
def test_conv_output_size_examples(args, kwargs, expected):
    result = conv_output_size(*args, **kwargs)
    assert result == expected
    assert type(result) is int


@pytest.mark.parametrize(
    ("args", "kwargs", "text"),
    [
        ((6, 3), {"padding": 1}, "(6 + 2·1 − 3) / 1 + 1 = 6"),
        ((32, 5), {}, "(32 − 5) / 1 + 1 = 28"),
        ((7, 3), {"strides": 2, "padding": "same"}, "ceil(7 / 2) = 4"),
        ((8, 3), {"strides": 2}, "floor((8 − 3) / 2) + 1 = 3"),
        ((6, 4), {"padding": (1, 2)}, "(6 + 1 + 2 − 4) / 1 + 1 = 6"),
        ((6, 3), {"dilation": 2}, "(6 − (2·(3 − 1) + 1)) / 1 + 1 = 2"),
    ],
)
def test_conv_output_size_formula(args, kwargs, text):
    assert conv_output_size_formula(*args, **kwargs) == text


def test_conv_params_and_formula():
    assert conv_params(5, 1, 6) == 156
    assert conv_params((5, 5), 6, 16) == 2416  # LeNet-5 C3 (full connection table)
    assert conv_params(3, 3, 64, use_bias=False) == 1728
    assert conv_params_formula(5, 1, 6) == "6 × (5×5×1) + 6 = 156"
    assert conv_params_formula((3, 1), 2, 4, use_bias=False) == "4 × (3×1×2) = 24"


def _tf_same_pads(n: int, k: int, s: int, d: int) -> tuple[int, int]:
    """TensorFlow's documented SAME rule, written the way its docs state it."""
    k_eff = (k - 1) * d + 1
    total = max(k_eff - s, 0) if n % s == 0 else max(k_eff - n % s, 0)
    return total // 2, total - total // 2


@settings(max_examples=200, deadline=None)
@given(
    n=st.integers(1, 40),
    k=st.integers(1, 8),
    s=st.integers(1, 3),
    d=st.integers(1, 3),
)
def test_same_matches_tensorflow_rule(n, k, s, d):
    assert same_padding(n, k, s, d) == _tf_same_pads(n, k, s, d)
    assert conv_output_size(n, k, s, "same", d) == math.ceil(n / s)


def test_same_padding_puts_extra_pixel_after():
    assert same_padding(6, 4) == (1, 2)  # even kernel
    assert same_padding(6, 3, strides=2) == (0, 1)  # stride 2
    assert same_padding(5, 1) == (0, 0)


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: conv_output_size(3, 5), ValueError, r"kernel is larger than the padded input"),
        (lambda: conv_output_size(4, 3, dilation=2), ValueError, r"larger than the padded"),
        (lambda: conv_output_size(8, 3, strides=0), ValueError, r"`strides` must be a positive"),
        (lambda: conv_output_size(8, 3, dilation=-1), ValueError, r"`dilation` must be a posi"),
        (lambda: conv_output_size(8, 3, padding="sam"), ValueError, r"unknown padding .sam.*same"),
        (lambda: conv_output_size(8, 3, padding=-1), ValueError, r"`padding` must not be negative"),
        (lambda: conv_output_size(8, 3, strides=1.5), TypeError, r"`strides` must be an integer"),
        (lambda: conv_output_size(8, True), TypeError, r"`kernel_size` must be an integer"),
        (lambda: conv_output_size(8, 3, padding=(1, 2, 3)), ValueError, r"pair \(rows, cols\)"),
        (lambda: same_padding(0, 3), ValueError, r"same_padding: `n` must be a positive"),
        (lambda: conv_params(3, 0, 8), ValueError, r"`in_channels` must be a positive"),
    ],
)
def test_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()
