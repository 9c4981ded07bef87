"""to_categorical, as keras.utils.to_categorical."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from cnnkit.utils import to_categorical


def test_one_hot_rows():
    out = to_categorical([0, 2, 1, 2])
    assert out.dtype == np.float32 and out.shape == (4, 3)
    np.testing.assert_array_equal(out, np.eye(3, dtype=np.float32)[[0, 2, 1, 2]])


def test_trailing_unit_axis_dropped_like_cifar_labels():
    y = np.array([[3], [0]], dtype=np.uint8)
    assert to_categorical(y, 5).shape == (2, 5)


def test_multi_dimensional_and_torch_and_float_input():
    y = torch.tensor([[0, 1], [1, 0]])
    assert to_categorical(y, 2).shape == (2, 2, 2)
    np.testing.assert_array_equal(to_categorical(np.array([1.0, 0.0])), [[0, 1], [1, 0]])
    assert to_categorical([1], 3, dtype="int64").dtype == np.int64


@pytest.mark.parametrize(
    ("y", "num_classes", "error", "pattern"),
    [
        ([0, 3], 3, ValueError, r"labels must lie in 0..2 for 3 classes.*\[3\]"),
        ([-1, 0], None, ValueError, r"labels must lie in 0..0.*\[-1\]"),
        ([0.5], None, ValueError, r"whole-number class labels.*\[0.5\]"),
        (["a"], None, TypeError, r"must hold integer class labels.*y.dtype='<U1'"),
        ([0, 1], 0, ValueError, r"`num_classes` must be positive"),
        ([0, 1], 2.0, TypeError, r"`num_classes` must be an integer"),
        ([], None, ValueError, r"`num_classes` is needed when `y` is empty"),
    ],
)
def test_bad_labels(y, num_classes, error, pattern):
    with pytest.raises(error, match=pattern):
        to_categorical(y, num_classes)
