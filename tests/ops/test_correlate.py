"""correlate2d / convolve2d: hand-computed classics, and property tests against torch."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from cnnkit.ops import conv_output_size, convolve2d, correlate2d, kernel

COURSE_6X6 = np.array(
    [
        [3, 0, 1, 2, 7, 4],
        [1, 5, 8, 9, 3, 1],
        [2, 7, 2, 5, 1, 3],
        [0, 1, 3, 1, 7, 8],
        [4, 2, 1, 6, 2, 8],
        [2, 4, 5, 2, 3, 9],
    ]
)


def test_vertical_edge_on_step_image():
    step = np.array([[10, 10, 10, 0, 0, 0]] * 6)
    out = correlate2d(step, kernel("edge_vertical"))
    np.testing.assert_array_equal(out, [[0, 30, 30, 0]] * 4)
    # Sobel finds the same edge, brighter-to-darker, so negative, 4 × 10 = 40 strong.
    np.testing.assert_array_equal(correlate2d(step, kernel("sobel_x")), [[0, -40, -40, 0]] * 4)


def test_course_6x6_vertical_edge():
    out = correlate2d(COURSE_6X6, kernel("edge_vertical"))
    expected = [[-5, -4, 0, 8], [-10, -2, 2, 3], [0, -2, -4, -7], [-3, -2, -3, -16]]
    np.testing.assert_array_equal(out, expected)
    assert out.dtype == np.float64


def test_stride_2_example():
    x = np.array(
        [
            [2, 3, 7, 4, 6, 2, 9],
            [6, 6, 9, 8, 7, 4, 3],
            [3, 4, 8, 3, 8, 9, 7],
            [7, 8, 3, 6, 6, 3, 4],
            [4, 2, 1, 8, 3, 4, 6],
            [3, 2, 4, 1, 9, 8, 3],
            [0, 1, 3, 9, 2, 1, 4],
        ]
    )
    k = np.array([[3, 4, 4], [1, 0, 2], [-1, 0, 3]])
    out = correlate2d(x, k, strides=2)
    # Worked by hand, e.g. out[0, 2] = 3·6 + 4·2 + 4·9 + 1·7 + 0·4 + 2·3 − 1·8 + 0·9 + 3·7 = 88.
    np.testing.assert_array_equal(out, [[91, 100, 88], [69, 91, 117], [44, 72, 74]])


def test_full_padding_of_an_impulse_reproduces_the_kernel():
    impulse = np.ones((1, 1))
    k = np.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(convolve2d(impulse, k, padding="full"), k)
    np.testing.assert_array_equal(correlate2d(impulse, k, padding="full"), k[::-1, ::-1])


def test_same_with_even_kernel_pads_bottom_right():
    x = np.arange(16.0).reshape(4, 4)
    out = correlate2d(x, np.ones((2, 2)), padding="same")
    assert out.shape == (4, 4)
    assert out[0, 0] == x[0:2, 0:2].sum()  # nothing padded above/left
    assert out[3, 3] == x[3, 3]  # the padded row/col are below/right


def test_kernel_forms_and_channels():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((5, 6, 3))
    k2 = rng.standard_normal((3, 3))
    per_channel = correlate2d(x, k2)
    assert per_channel.shape == (3, 4, 3)
    np.testing.assert_allclose(per_channel[..., 2], correlate2d(x[..., 2], k2))
    k3 = rng.standard_normal((3, 3, 3))
    summed = correlate2d(x, k3)
    assert summed.shape == (3, 4)
    np.testing.assert_allclose(summed, sum(correlate2d(x[..., c], k3[..., c]) for c in range(3)))
    bank = rng.standard_normal((3, 3, 3, 5))
    out = correlate2d(x, bank, padding="same")
    assert out.shape == (5, 6, 5)
    np.testing.assert_allclose(out[..., 4], correlate2d(x, bank[..., 4], padding="same"))


def test_dtypes_nan_and_no_mutation():
    x32 = np.ones((4, 4), dtype=np.float32)
    assert correlate2d(x32, kernel("box_blur")).dtype == np.float32
    assert correlate2d(np.ones((4, 4), dtype=np.uint8), np.ones((2, 2), int)).dtype == np.float64
    x = np.arange(25.0).reshape(5, 5)
    x[2, 2] = np.nan
    before = x.copy()
    k = np.ones((3, 3))
    before_k = k.copy()
    out = correlate2d(x, k, padding="same")
    assert np.isnan(out[1:4, 1:4]).all()
    assert np.isfinite(out[0]).all()
    np.testing.assert_array_equal(x, before)
    np.testing.assert_array_equal(k, before_k)


def _tf_same(n: int, k: int, s: int, d: int) -> tuple[int, int]:
    """TensorFlow's documented SAME padding, computed independently of cnnkit."""
    k_eff = (k - 1) * d + 1
    total = max(k_eff - s, 0) if n % s == 0 else max(k_eff - n % s, 0)
    return total // 2, total - total // 2


@st.composite
def conv_cases(draw):
    h, w = draw(st.integers(1, 12)), draw(st.integers(1, 12))
    c, f = draw(st.integers(1, 3)), draw(st.integers(1, 5))
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    s = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    d = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    kind = draw(st.sampled_from(["valid", "same", "full", "int", "sides"]))
    if kind == "same":
        pads = (_tf_same(h, kh, s[0], d[0]), _tf_same(w, kw, s[1], d[1]))
        padding = "same"
    elif kind == "full":
        pads = (((kh - 1) * d[0],) * 2, ((kw - 1) * d[1],) * 2)
        padding = "full"
    elif kind == "int":
        p = draw(st.integers(0, 2))
        pads, padding = ((p, p), (p, p)), p
    elif kind == "sides":
        pads = tuple((draw(st.integers(0, 2)), draw(st.integers(0, 2))) for _ in range(2))
        padding = pads
    else:
        pads, padding = ((0, 0), (0, 0)), "valid"
    assume(h + sum(pads[0]) >= (kh - 1) * d[0] + 1 and w + sum(pads[1]) >= (kw - 1) * d[1] + 1)
    seed = draw(st.integers(0, 2**16))
    return h, w, c, f, kh, kw, s, d, padding, pads, seed


@settings(max_examples=120, deadline=None)
@given(case=conv_cases())
def test_correlate2d_matches_torch_conv2d(case):
    h, w, c, f, kh, kw, s, d, padding, pads, seed = case
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((h, w, c))
    bank = rng.standard_normal((kh, kw, c, f))
    out = correlate2d(x, bank, strides=s, padding=padding, dilation=d)
    xt = torch.from_numpy(x).permute(2, 0, 1)[None]
    (top, bottom), (left, right) = pads
    xt = torch.nn.functional.pad(xt, (left, right, top, bottom))
    wt = torch.from_numpy(bank).permute(3, 2, 0, 1)
    ref = torch.nn.functional.conv2d(xt, wt, stride=s, dilation=d)[0].permute(1, 2, 0).numpy()
    np.testing.assert_allclose(out, ref, rtol=1e-10, atol=1e-10)
    # The output shape is what the shape arithmetic predicts, axis by axis.
    assert out.shape[:2] == tuple(
        conv_output_size(
            (h, w)[a],
            (kh, kw)[a],
            s[a],
            padding if isinstance(padding, str | int) else pads[a],
            d[a],
        )
        for a in (0, 1)
    )
    # A (kh, kw, C) kernel is the one-filter bank; a 2-D image is the one-channel image.
    single = correlate2d(x, bank[..., 0], strides=s, padding=padding, dilation=d)
    np.testing.assert_allclose(single, ref[..., 0], rtol=1e-10, atol=1e-10)


@settings(max_examples=60, deadline=None)
@given(case=conv_cases())
def test_convolve2d_is_correlate2d_with_flipped_kernel(case):
    h, w, c, _, kh, kw, s, d, padding, _, seed = case
    rng = np.random.default_rng(seed)
    x = rng.integers(-9, 10, size=(h, w, c))
    k = rng.integers(-3, 4, size=(kh, kw, c))
    np.testing.assert_array_equal(
        convolve2d(x, k, s, padding, d), correlate2d(x, k[::-1, ::-1], s, padding, d)
    )
    np.testing.assert_array_equal(
        convolve2d(x[..., 0], k[..., 0], s, padding, d),
        correlate2d(x[..., 0], k[::-1, ::-1, 0], s, padding, d),
    )


@pytest.mark.parametrize(
    ("kernel_shape", "strides", "padding", "dilation"),
    [
        ((3, 3), 1, "same", 1),
        ((4, 2), (2, 3), "same", 1),
        ((3, 3), 3, 40, 2),  # wide padding: whole bands fall inside it
        ((5, 5, 3), 2, "full", 1),
        ((3, 3, 3, 2), 1, ((0, 3), (2, 0)), (1, 2)),
        ((3, 3, 3, 8), 2, "same", 1),  # the im2col engine
    ],
)
def test_banded_engines_match_torch_on_a_large_image(kernel_shape, strides, padding, dilation):
    # Large enough that both engines split the output into several bands.
    rng = np.random.default_rng(7)
    x = rng.standard_normal((301, 410, 3))
    k = rng.standard_normal(kernel_shape)
    out = correlate2d(x, k, strides, padding, dilation)
    bank = k[:, :, None, None] if k.ndim == 2 else (k[..., None] if k.ndim == 3 else k)
    s = (strides, strides) if isinstance(strides, int) else strides
    d = (dilation, dilation) if isinstance(dilation, int) else dilation
    if padding == "same":
        pads = tuple(_tf_same(x.shape[a], k.shape[a], s[a], d[a]) for a in (0, 1))
    elif padding == "full":
        pads = tuple(((k.shape[a] - 1) * d[a],) * 2 for a in (0, 1))
    elif isinstance(padding, int):
        pads = ((padding, padding), (padding, padding))
    else:
        pads = padding
    xt = torch.from_numpy(x).permute(2, 0, 1)[None]
    xt = torch.nn.functional.pad(xt, (*pads[1], *pads[0]))
    if k.ndim == 2:  # per channel: a grouped convolution
        wt = torch.from_numpy(np.repeat(bank, 3, axis=3)).permute(3, 2, 0, 1)
        ref = torch.nn.functional.conv2d(xt, wt, stride=s, dilation=d, groups=3)
    else:
        wt = torch.from_numpy(bank).permute(3, 2, 0, 1)
        ref = torch.nn.functional.conv2d(xt, wt, stride=s, dilation=d)
    ref = ref[0].permute(1, 2, 0).numpy()
    np.testing.assert_allclose(out, ref[..., 0] if k.ndim == 3 else ref, rtol=1e-9, atol=1e-9)
