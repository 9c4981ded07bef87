"""Number and matrix rendering used by the worked explanations."""

from __future__ import annotations

import numpy as np
import pytest

from cnnkit.ops import to_grayscale
from cnnkit.ops._format import format_number, render_matrix, side_by_side


@pytest.mark.parametrize(
    ("value", "parenthesize", "text"),
    [
        (3, False, "3"),
        (np.int64(-46), False, "−46"),
        (-1, True, "(−1)"),
        (np.float32(2.0), False, "2"),
        (0.0625, False, "0.0625"),
        (1 / 3, False, "0.3333"),
        (-2.5, True, "(−2.5)"),
        (1.5e-5, False, "1.5e−05"),
        (float("nan"), False, "nan"),
        (np.bool_(True), False, "1"),
        (1 - 2j, False, "(1−2j)"),
    ],
)
def test_format_number(value, parenthesize, text):
    assert format_number(value, parenthesize) == text


def test_matrix_columns_align_and_blocks_sit_side_by_side():
    lines = render_matrix(np.array([[1, -10], [100, 2]]))
    assert lines == ["  1 −10", "100   2"]
    block = side_by_side([("a", ["1", "2", "3"]), ("", ["⊙"]), ("b", ["x"])])
    assert block == ["a       b", "1", "2   ⊙   x", "3"]


def test_to_grayscale_refuses_two_channels():
    with pytest.raises(ValueError, match=r"must be grayscale, RGB or RGBA.*1, 3 or 4 channels"):
        to_grayscale(np.zeros((2, 2, 2)))
