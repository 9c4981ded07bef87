"""replace_head: layers, preprocessing, weights kept, save/load round trip, errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from cnnkit.applications import EfficientNetLite0
from cnnkit.layers import Dense, Dropout
from cnnkit.models import load_model
from cnnkit.transfer import ImagePreprocessing, replace_head
from tests.transfer._models import SIZE, small_lite0


def test_new_head_layers_and_output():
    model = replace_head(small_lite0(), 5, hidden=16, dropout=0.3)
    kinds = [type(layer).__name__ for layer in model.layers]
    assert kinds == [
        "InputLayer",
        "ImagePreprocessing",
        "EfficientNetLite0",
        "GlobalAveragePooling2D",
        "Dense",
        "Dropout",
        "Dropout",
        "Dense",
    ]
    assert model.layers[-1].units == 5 and model.layers[4].units == 16
    assert all(isinstance(m, Dropout) and m.rate == 0.3 for m in model.layers[5:7])
    out = model(torch.rand(3, SIZE, SIZE, 3) * 255)
    torch.testing.assert_close(out.sum(dim=1), torch.ones(3))


def test_top_is_dropped_and_body_weights_are_kept():
    full = EfficientNetLite0(weights=None, input_shape=(SIZE, SIZE, 3), classes=10)
    model = replace_head(full, 2, dropout=0.0)
    body = model.layers[2]
    assert not body.include_top and body is not full
    torch.testing.assert_close(body.conv_head.weight, full.conv_head.weight)
    # The preprocessing layer scales 0..255 to [-1, 1] exactly as the family's preprocess_input.
    x = torch.rand(2, SIZE, SIZE, 3) * 255
    full.eval(), model.eval()
    with torch.no_grad():
        expected = full.forward_features(x / 127.5 - 1).mean(dim=(1, 2))
        pooled = model.layers[3](body(model.layers[1](x), training=False))
    torch.testing.assert_close(pooled, expected)


def test_binary_head_is_one_sigmoid_unit():
    model = replace_head(small_lite0(), 1)
    final = model.layers[-1]
    assert isinstance(final, Dense) and final.units == 1
    out = model(torch.rand(4, SIZE, SIZE, 3) * 255)
    assert out.shape == (4, 1) and bool(((out > 0) & (out < 1)).all())


def test_save_and_load_round_trip(tmp_path):
    model = replace_head(small_lite0(), 3).eval()
    path = tmp_path / "transfer.cnnkit"
    model.save(path)
    loaded = load_model(path).eval()
    x = np.random.default_rng(0).uniform(0, 255, (2, SIZE, SIZE, 3)).astype(np.float32)
    with torch.no_grad():
        torch.testing.assert_close(loaded(torch.from_numpy(x)), model(torch.from_numpy(x)))
    assert isinstance(loaded.layers[1], ImagePreprocessing) and loaded.layers[1].mode == "tf"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"classes": 0}, r"`classes` must be an integer >= 1.*Received: classes=0"),
        ({"classes": 2, "hidden": -4}, r"`hidden` must be an integer >= 1.*Received: hidden=-4"),
        ({"classes": 2, "dropout": 1.0}, r"`dropout` must be a number in \[0, 1\)"),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        replace_head(small_lite0(), **kwargs)


def test_not_a_zoo_model():
    with pytest.raises(TypeError, match=r"must be a cnnkit zoo model.*Received: model='Linear'"):
        replace_head(torch.nn.Linear(2, 2), 2)


def test_unknown_preprocessing_mode():
    with pytest.raises(ValueError, match="Unknown preprocessing mode 'caffe'"):
        ImagePreprocessing("caffe")
