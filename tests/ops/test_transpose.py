"""ops.conv_transpose2d against torch and the Conv2DTranspose layer; its worked sums and sizes."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cnnkit import layers, ops

RNG = np.random.default_rng(0)


def _torch_keras(x: np.ndarray, k: np.ndarray, s: int, padding: str) -> np.ndarray:
    """torch's full transposed conv, then the window Keras keeps (zeros past the end)."""
    xt = torch.from_numpy(np.moveaxis(np.atleast_3d(x), -1, 0)[None].astype(np.float64))
    kt = torch.from_numpy(np.moveaxis(np.atleast_3d(k), -1, 0)[:, None].astype(np.float64))
    full = F.conv_transpose2d(xt, kt, stride=s)[0, 0].numpy()
    n, kh = x.shape[0], k.shape[0]
    start, length = (
        (max(kh - s, 0) // 2, n * s) if padding == "same" else (0, n * s + max(kh - s, 0))
    )
    out = np.zeros((length, length))
    kept = full[start : start + length, start : start + length]
    out[: kept.shape[0], : kept.shape[1]] = kept
    return out


@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize(("k", "s"), [(3, 1), (3, 2), (4, 2), (2, 3), (5, 2)])
def test_matches_torch_with_keras_sizes(k, s, padding):
    x = RNG.normal(size=(4, 4))
    kernel = RNG.normal(size=(k, k))
    out = ops.conv_transpose2d(x, kernel, strides=s, padding=padding)
    np.testing.assert_allclose(out, _torch_keras(x, kernel, s, padding), atol=1e-12)
    assert out.shape[0] == ops.conv_transpose_output_size(4, k, s, padding)


def test_channels_are_summed_and_match_the_layer():
    x = RNG.normal(size=(3, 3, 2)).astype(np.float32)
    kernel = RNG.normal(size=(3, 3, 2)).astype(np.float32)
    for padding in ("valid", "same"):
        layer = layers.Conv2DTranspose(1, 3, strides=2, padding=padding, use_bias=False)
        layer(torch.zeros(1, 3, 3, 2))  # built by a call (a bare build() is redone by it)
        layer.set_weights([kernel[:, :, None, :]])  # Keras layout (kh, kw, filters, in)
        expected = layer(torch.from_numpy(x[None])).detach().numpy()[0, ..., 0]
        out = ops.conv_transpose2d(x, kernel, strides=2, padding=padding)
        np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-5)


def test_explain_lists_the_scattered_products_and_sums_to_the_output():
    x = [[1, 2], [3, 4]]
    kernel = [[1, 0, 2], [0, 1, 0], [3, 0, 1]]
    out = ops.conv_transpose2d(x, kernel, strides=2)
    e = ops.explain_transpose(x, kernel, at=(2, 2), strides=2)
    assert e.sum_text() == "1×1 + 2×3 + 3×2 + 4×1 = 17" and out[2, 2] == 17
    assert "x[1,1] × k[0,0]   (1·2 + 0, 1·2 + 0)" in str(e)
    gap = ops.explain_transpose(x, kernel, at=(1, 0), strides=2)
    assert gap.sum_text() == "1×0 = 0"  # only x[0,0] reaches (1, 0), through k[1, 0]
    for r in range(out.shape[0]):
        for c in range(out.shape[1]):
            assert ops.explain_transpose(x, kernel, at=(r, c), strides=2).value == out[r, c]


def test_a_stride_larger_than_the_kernel_leaves_gaps_of_zeros():
    out = ops.conv_transpose2d([[1, 2]], [[5]], strides=3)
    np.testing.assert_array_equal(out, [[5, 0, 0, 10, 0, 0], [0] * 6, [0] * 6])
    e = ops.explain_transpose([[1, 2]], [[5]], at=(0, 1), strides=3)
    assert e.terms == [] and e.sum_text() == "0 = 0" and "a gap between strided copies" in str(e)


def test_size_formulas_and_the_rendered_trace():
    assert ops.conv_transpose_output_size_formula(3, 3, 2) == "3 × 2 + max(3 − 2, 0) = 7"
    assert ops.conv_transpose_output_size_formula(3, 3, 2, "same") == "3 × 2 = 6"
    text = ops.render_transpose([[1, 2], [3, 4]], [[1, 1], [1, 1]])
    assert text.splitlines()[0] == "output rows: 2 × 1 + max(2 − 1, 0) = 3"
    assert " 1  3  2" in text and "10" in text


def test_bad_arguments_are_template_errors():
    with pytest.raises(ValueError, match=r"padding 'full'.*padding='full'.*'same', 'valid'"):
        ops.conv_transpose2d([[1]], [[1]], padding="full")
    with pytest.raises(ValueError, match=r"kernel does not match.*x.shape=\(2, 2, 3\)"):
        ops.conv_transpose2d(np.ones((2, 2, 3)), np.ones((2, 2)))
    with pytest.raises(ValueError, match=r"`at` is outside the output.*3×3.*at=\(3, 0\)"):
        ops.explain_transpose([[1, 2], [3, 4]], [[1, 1], [1, 1]], at=(3, 0))
