"""pool2d / global_pool: hand examples, Keras "same" semantics, torch parity."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from cnnkit.ops import conv_output_size, global_pool, pool2d

X4 = np.array([[1, 3, 2, 1], [2, 9, 1, 1], [1, 3, 2, 3], [5, 6, 1, 2]])


def test_2x2_max_pooling():
    # The CNN course's example: 2×2 windows, stride 2.
    np.testing.assert_array_equal(pool2d(X4, 2), [[9, 2], [6, 3]])
    assert pool2d(X4, 2).dtype == X4.dtype


def test_2x2_avg_pooling():
    np.testing.assert_allclose(pool2d(X4, 2, mode="avg"), [[3.75, 1.25], [3.75, 2.0]])


def test_3x3_max_pooling_stride_1():
    x = np.array(
        [
            [1, 3, 2, 1, 3],
            [2, 9, 1, 1, 5],
            [1, 3, 2, 3, 2],
            [8, 3, 5, 1, 0],
            [5, 6, 1, 2, 9],
        ]
    )
    np.testing.assert_array_equal(pool2d(x, 3, strides=1), [[9, 9, 5], [9, 9, 5], [8, 6, 9]])


def test_same_padding_ignores_padded_pixels():
    # 3×3 windows, stride 2 on 4×4: TF pads 0 before, 1 after; pads never win or count.
    neg = -np.ones((4, 4))
    np.testing.assert_array_equal(pool2d(neg, 3, 2, "same"), -np.ones((2, 2)))
    avg = pool2d(X4, 3, 2, "same", "avg")
    assert avg[1, 1] == pytest.approx(X4[2:, 2:].mean())
    assert avg[0, 0] == pytest.approx(X4[:3, :3].mean())


def test_channels_nan_and_no_mutation():
    x = np.stack([X4, 10 * X4], axis=-1).astype(float)
    x[0, 0, 1] = np.nan
    before = x.copy()
    out = pool2d(x, 2)
    assert out.shape == (2, 2, 2)
    assert np.isnan(out[0, 0, 1]) and out[0, 0, 0] == 9
    np.testing.assert_array_equal(x, before, strict=True)
    np.testing.assert_array_equal(global_pool(X4[..., None], "max"), [9])
    assert global_pool(X4) == pytest.approx(X4.mean())


@settings(max_examples=60, deadline=None)
@given(
    h=st.integers(1, 10),
    w=st.integers(1, 10),
    p=st.integers(1, 3),
    s=st.integers(1, 3),
    mode=st.sampled_from(["max", "avg"]),
    seed=st.integers(0, 1000),
)
def test_valid_pooling_matches_torch(h, w, p, s, mode, seed):
    if p > h or p > w:
        with pytest.raises(ValueError, match="larger than the padded input"):
            pool2d(np.zeros((h, w)), p, s)
        return
    x = np.random.default_rng(seed).standard_normal((h, w, 2))
    out = pool2d(x, p, s, mode=mode)
    xt = torch.from_numpy(x).permute(2, 0, 1)[None]
    fn = torch.nn.functional.max_pool2d if mode == "max" else torch.nn.functional.avg_pool2d
    ref = fn(xt, p, s)[0].permute(1, 2, 0).numpy()
    np.testing.assert_allclose(out, ref, rtol=1e-12)
    assert out.shape[:2] == (conv_output_size(h, p, s), conv_output_size(w, p, s))


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"mode": "mean"}, ValueError, r"Unknown pooling mode 'mean'.*Valid choices: 'avg', 'max'"),
        ({"padding": "full"}, ValueError, r"Unknown pooling padding 'full'.*'same', 'valid'"),
        ({"pool_size": 0}, ValueError, r"`pool_size` must be a positive integer"),
        ({"strides": -2}, ValueError, r"`strides` must be a positive integer"),
        ({"pool_size": 5}, ValueError, r"pool2d: the kernel is larger than the padded input"),
    ],
)
def test_errors(kwargs, error, match):
    with pytest.raises(error, match=match):
        pool2d(X4, **kwargs)


def test_max_pooling_refuses_complex():
    with pytest.raises(TypeError, match=r"max pooling needs real numbers"):
        pool2d(X4 + 1j, 2)
    with pytest.raises(ValueError, match=r"Unknown pooling mode 'min'"):
        global_pool(X4, "min")


@settings(max_examples=60, deadline=None)
@given(
    h=st.integers(1, 9),
    w=st.integers(1, 9),
    p=st.integers(1, 4),
    s=st.integers(1, 3),
    seed=st.integers(0, 1000),
)
def test_same_pooling_matches_tensorflow_semantics(h, w, p, s, seed):
    x = np.random.default_rng(seed).standard_normal((h, w, 2))

    def tf_pads(n):  # TF's documented rule, independent of cnnkit
        total = max(p - s, 0) if n % s == 0 else max(p - n % s, 0)
        return total // 2, total - total // 2

    (top, bottom), (left, right) = tf_pads(h), tf_pads(w)
    xt = torch.from_numpy(x).permute(2, 0, 1)[None]
    padded = torch.nn.functional.pad(xt, (left, right, top, bottom), value=-np.inf)
    ref_max = torch.nn.functional.max_pool2d(padded, p, s)[0].permute(1, 2, 0).numpy()
    np.testing.assert_array_equal(pool2d(x, p, s, "same", "max"), ref_max)
    ones = torch.nn.functional.pad(
        torch.ones(1, 1, h, w, dtype=torch.float64), (left, right, top, bottom)
    )
    sums = torch.nn.functional.avg_pool2d(
        torch.nn.functional.pad(xt, (left, right, top, bottom)), p, s, divisor_override=1
    )
    counts = torch.nn.functional.avg_pool2d(ones, p, s, divisor_override=1)
    ref_avg = (sums / counts)[0].permute(1, 2, 0).numpy()
    np.testing.assert_allclose(pool2d(x, p, s, "same", "avg"), ref_avg, rtol=1e-12)
    assert ref_max.shape[:2] == (-(-h // s), -(-w // s))
