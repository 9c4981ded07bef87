"""parse_matrix: the text form the CLI and notebooks use for small matrices."""

from __future__ import annotations

import numpy as np
import pytest

from cnnkit.ops import parse_matrix


def test_integers_floats_separators_and_typographic_minus():
    ints = parse_matrix("3 0 1; 1 5 8; 2 7 2")
    assert ints.dtype == np.int64
    np.testing.assert_array_equal(ints, [[3, 0, 1], [1, 5, 8], [2, 7, 2]])
    floats = parse_matrix("0.5, −1\n2, 1e-3")
    assert floats.dtype == np.float64
    np.testing.assert_array_equal(floats, [[0.5, -1], [2, 0.001]])
    np.testing.assert_array_equal(parse_matrix("  4  ;"), [[4]])


@pytest.mark.parametrize(
    ("text", "error", "match"),
    [
        ("", ValueError, r"`matrix` is empty"),
        (" ; ", ValueError, r"`matrix` is empty"),
        (
            "1 2; 3",
            ValueError,
            r"have different lengths.*row lengths=\[2, 1\]",
        ),
        ("1 two", ValueError, r"not a number: 'two'"),
        ([[1, 2]], TypeError, r"`matrix` must be text"),
    ],
)
def test_errors(text, error, match):
    with pytest.raises(error, match=match):
        parse_matrix(text)


def test_parse_kernel_names_and_matrices():
    from cnnkit.ops import kernel, parse_kernel

    np.testing.assert_array_equal(parse_kernel("sobel_x"), kernel("sobel_x"))
    np.testing.assert_array_equal(parse_kernel("1 0 -1"), [[1, 0, -1]])
    with pytest.raises(ValueError, match=r"Unknown kernel 'laplace'.*Did you mean 'laplacian_"):
        parse_kernel("laplace")
