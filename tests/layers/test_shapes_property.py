"""Property: the inferred output shape is the shape the forward pass really produces."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from cnnkit import ops
from cnnkit.layers import AveragePooling2D, Conv2D, DepthwiseConv2D, MaxPooling2D


@settings(max_examples=40, deadline=None)
@given(
    h=st.integers(1, 12),
    w=st.integers(1, 12),
    k=st.integers(1, 5),
    s=st.integers(1, 3),
    d=st.integers(1, 2),
    padding=st.sampled_from(["valid", "same", 1, ((0, 2), (1, 0))]),
    kind=st.sampled_from(["conv", "depthwise", "max", "avg"]),
)
def test_inferred_shape_equals_forward_shape(h, w, k, s, d, padding, kind):
    if kind == "conv":
        layer = Conv2D(3, k, strides=s, dilation_rate=d, padding=padding)
    elif kind == "depthwise":
        layer = DepthwiseConv2D(k, strides=s, dilation_rate=d, padding=padding, depth_multiplier=2)
    else:
        d = 1
        layer = (MaxPooling2D if kind == "max" else AveragePooling2D)(k, s, padding=padding)
    per_axis = padding if isinstance(padding, tuple) else (padding, padding)
    try:
        expected = layer.compute_output_shape((None, h, w, 2))
    except ValueError as err:  # the kernel does not fit: the NumPy reference must agree
        assert "kernel is larger" in str(err)
        with pytest.raises(ValueError, match="kernel is larger"):
            for n, pad in zip((h, w), per_axis, strict=True):
                ops.conv_output_size(n, k, s, pad, d)
        return
    out = layer(torch.randn(2, h, w, 2))
    assert (None, *out.shape[1:]) == expected
    for n, pad, got in zip((h, w), per_axis, expected[1:3], strict=True):
        assert got == ops.conv_output_size(n, k, s, pad, d)
