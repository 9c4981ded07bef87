"""load_img, img_to_array, array_to_img and save_img, as in Keras' image module."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from cnnkit.preprocessing.image import array_to_img, img_to_array, load_img, save_img
from tests.data._images import solid


def test_load_resize_and_convert(tmp_path):
    path = solid(tmp_path / "a.png", (10, 20, 30), size=(40, 20))
    img = load_img(path, target_size=(5, 10))
    assert img.size == (10, 5) and img.mode == "RGB"
    arr = img_to_array(img)
    assert (
        arr.shape == (5, 10, 3) and arr.dtype == np.float32 and arr[0, 0].tolist() == [10, 20, 30]
    )
    grey = img_to_array(load_img(path, color_mode="grayscale"))
    assert grey.shape == (20, 40, 1)


def test_keep_aspect_ratio_crops(tmp_path):
    path = solid(tmp_path / "wide.png", (1, 2, 3), size=(40, 10))
    assert load_img(path, target_size=(10, 10), keep_aspect_ratio=True).size == (10, 10)


def test_array_round_trip(tmp_path):
    x = np.random.default_rng(0).integers(0, 256, (6, 7, 3)).astype(np.float32)
    x[0, 0] = [0, 0, 0]
    x[0, 1] = [255, 255, 255]  # full range, so scaling is the identity
    save_img(tmp_path / "x.png", x)
    back = img_to_array(load_img(tmp_path / "x.png"))
    np.testing.assert_array_equal(back, x)
    stretched = img_to_array(array_to_img(torch.tensor([[[0.0], [0.5]]])))
    assert stretched[:, :, 0].tolist() == [[0, 255]]


@pytest.mark.parametrize(
    ("call", "pattern"),
    [
        (lambda p: load_img(p, color_mode="bgr"), r"Unknown color_mode 'bgr'"),
        (lambda p: load_img(p, interpolation="cubic"), r"Unknown interpolation 'cubic'.*'bicubic'"),
        (lambda p: array_to_img(np.zeros((2, 2, 2))), r"expected an image of shape"),
        (lambda p: img_to_array(load_img(p), data_format="channels_first"), r"channels_last"),
    ],
)
def test_bad_arguments(tmp_path, call, pattern):
    path = solid(tmp_path / "a.png", (1, 2, 3))
    with pytest.raises(ValueError, match=pattern):
        call(path)
