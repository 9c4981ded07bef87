"""explain / explain_all: the worked sums are right, complete and readable."""

from __future__ import annotations

import re

import numpy as np
import pytest

from cnnkit.ops import Explanation, correlate2d, explain, explain_all, kernel
from tests.ops.test_correlate import COURSE_6X6


def test_worked_sum_writes_every_product():
    x = [[3, 0, 1], [1, 5, 8], [2, 7, 2]]
    e = explain(x, kernel("sobel_x"))
    assert isinstance(e, Explanation)
    assert e.sum_text() == ("(−1)×3 + 0×0 + 1×1 + (−2)×1 + 0×5 + 2×8 + (−1)×2 + 0×7 + 1×2 = 12")
    assert e.value == 12
    text = str(e)
    assert "window" in text and "kernel" in text and "⊙" in text
    # Window and kernel share lines: row 2 of each appears on one line.
    assert re.search(r"1 5 8\s+⊙\s+−2\s+0\s+2", text)


def test_explain_matches_correlate2d_everywhere():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((7, 6))
    k = rng.standard_normal((3, 2))
    out = correlate2d(x, k, strides=2, padding="same", dilation=1)
    for r in range(out.shape[0]):
        for c in range(out.shape[1]):
            e = explain(x, k, at=(r, c), strides=2, padding="same")
            assert e.value == pytest.approx(out[r, c])
            assert e.products.sum() == pytest.approx(out[r, c])


def test_padding_and_dilation_are_reported():
    e = explain(COURSE_6X6, kernel("sobel_x"), at=(0, 0), padding=1)
    assert e.padded == 5
    assert e.origin == (-1, -1)
    assert "5 padding zeros" in str(e)
    d = explain(COURSE_6X6, np.ones((3, 3)), at=(0, 1), dilation=2)
    assert d.value == COURSE_6X6[0:5:2, 1:6:2].sum()
    assert "cols 1..5 step 2" in str(d)


def test_channels_are_summed_channel_by_channel():
    x = np.stack([COURSE_6X6, 2 * COURSE_6X6], axis=-1)
    k = np.stack([kernel("identity"), -kernel("identity")], axis=-1)
    e = explain(x, k, at=(1, 1))
    assert e.value == 2 - 4  # centre pixel x[2, 2] = 2 in channel 0, 4 in channel 1
    assert "channel 1" in str(e)
    channel_1 = "0×10 + 0×16 + 0×18 + 0×14 + (−1)×4 + 0×10 + 0×2 + 0×6 + 0×2 = −2"
    assert e.sum_text().startswith("0×5 + 0×8 + 0×9 + 0×7 + 1×2 + ")
    assert e.sum_text().endswith(channel_1)


def test_explain_all_traces_the_course_example():
    trace = explain_all(COURSE_6X6, kernel("edge_vertical"))
    np.testing.assert_array_equal(trace.output, correlate2d(COURSE_6X6, kernel("edge_vertical")))
    text = str(trace)
    assert "output rows: (6 − 3) / 1 + 1 = 4" in text
    assert "out[0, 0] = 1×3 + 0×0 + (−1)×1 + 1×1 + 0×5 + (−1)×8 + 1×2 + 0×7 + (−1)×2 = −5" in text
    assert text.rstrip().endswith("−3  −2  −3 −16")
    assert len(trace.steps) == 16


def test_fractions_are_shown_readably():
    e = explain(np.full((3, 3), 16.0), kernel("gaussian_3x3"))
    assert e.sum_text().startswith("0.0625×16 + 0.125×16")
    assert e.sum_text().endswith("= 16")


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: explain(COURSE_6X6, kernel("sobel_x"), at=(4, 0)), r"`at` is outside the output"),
        (lambda: explain(COURSE_6X6, kernel("sobel_x"), at=(0, -1)), r"`at` must not be negative"),
        (lambda: explain(COURSE_6X6, np.ones((3, 3, 2))), r"does not match the image's channels"),
        (lambda: explain_all(np.zeros((20, 20)), np.ones((3, 3))), r"too large to trace"),
        (lambda: explain(COURSE_6X6, np.ones((7, 7))), r"kernel is larger than the padded input"),
    ],
)
def test_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()
