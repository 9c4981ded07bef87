"""pad: widths, modes, channels, no mutation."""

from __future__ import annotations

import numpy as np
import pytest

from cnnkit.ops import pad


def test_zero_padding_of_4x4():
    x = np.arange(1, 17).reshape(4, 4)
    out = pad(x, 1)
    assert out.shape == (6, 6)
    assert out.dtype == x.dtype
    np.testing.assert_array_equal(out[1:5, 1:5], x)
    assert out[0].sum() == out[-1].sum() == out[:, 0].sum() == out[:, -1].sum() == 0


@pytest.mark.parametrize(
    ("mode", "expected_row"),
    [
        ("constant", [9, 9, 1, 2, 3, 9, 9]),
        ("reflect", [3, 2, 1, 2, 3, 2, 1]),
        ("symmetric", [2, 1, 1, 2, 3, 3, 2]),
        ("edge", [1, 1, 1, 2, 3, 3, 3]),
    ],
)
def test_modes(mode, expected_row):
    x = np.array([[1, 2, 3]])
    out = pad(x, (0, 2), mode=mode, value=9)
    np.testing.assert_array_equal(out, [expected_row])


def test_per_side_widths_and_channels_untouched():
    x = np.ones((2, 3, 4), dtype=np.float32)
    out = pad(x, ((1, 2), (3, 0)))
    assert out.shape == (5, 6, 4)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out[1:3, 3:6], x)
    assert out.sum() == x.sum()


def test_input_not_modified_and_nan_kept():
    x = np.array([[np.nan, 1.0], [2.0, 3.0]])
    before = x.copy()
    out = pad(x, 1, mode="edge")
    np.testing.assert_array_equal(x, before)
    assert np.isnan(out[0, 0]) and np.isnan(out[1, 1])


@pytest.mark.parametrize(
    ("width", "mode", "match"),
    [
        (1, "wrap", r"Unknown pad mode 'wrap'.*Valid choices: 'constant', 'edge', 'reflect'"),
        (1, "reflct", r"Did you mean 'reflect'"),
        (-1, "constant", r"`width` must not be negative"),
        ((1, 2, 3), "constant", r"`width` has the wrong structure"),
        (((1, 2), 3), "constant", r"`width` has the wrong structure"),
        (3, "reflect", r"too wide for mode 'reflect'"),
    ],
)
def test_errors(width, mode, match):
    with pytest.raises(ValueError, match=match):
        pad(np.zeros((3, 3)), width, mode=mode)


def test_type_errors():
    with pytest.raises(TypeError, match=r"`width` must be an integer"):
        pad(np.zeros((3, 3)), 1.5)
    with pytest.raises(TypeError, match=r"pad: `x` must hold numbers"):
        pad(np.array([["a", "b"]]), 1)
