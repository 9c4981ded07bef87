"""The added layers' get_config round trips, and models using them save and load exactly."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from cnnkit.layers import (
    ELU,
    AveragePooling1D,
    Conv1D,
    Conv2DTranspose,
    Dense,
    Flatten,
    GlobalAveragePooling1D,
    GlobalMaxPooling1D,
    Input,
    LayerNormalization,
    MaxPooling1D,
    Multiply,
    Normalization,
    PReLU,
    RandomContrast,
    RandomCrop,
    Resizing,
    Softmax,
    SpatialDropout2D,
    UpSampling2D,
)
from cnnkit.models import Model, Sequential, load_model

IMAGE_LAYERS = [
    lambda: Softmax(axis=[1, 2]),
    lambda: ELU(alpha=0.3),
    lambda: PReLU(shared_axes=[1, 2], alpha_regularizer="l2"),
    lambda: UpSampling2D((2, 1), interpolation="bilinear"),
    lambda: Conv2DTranspose(3, 3, strides=2, padding="same", output_padding=1, activation="relu"),
    lambda: Resizing(5, 7, interpolation="nearest", crop_to_aspect_ratio=True),
    lambda: LayerNormalization(axis=[1, 2], center=False),
    lambda: SpatialDropout2D(0.25, data_format="channels_last"),
    lambda: RandomContrast((0.1, 0.3), value_range=(0, 1), seed=4),
    lambda: RandomCrop(3, 3, seed=2),
    lambda: Normalization(mean=[0.5, 1.0, 2.0], variance=[1.0, 4.0, 9.0]),
]
SEQUENCE_LAYERS = [
    lambda: MaxPooling1D(3, strides=1, padding="same"),
    lambda: AveragePooling1D(2),
    lambda: GlobalAveragePooling1D(keepdims=True),
    lambda: GlobalMaxPooling1D(),
]


@pytest.mark.parametrize("make", IMAGE_LAYERS + SEQUENCE_LAYERS)
def test_config_is_json_and_rebuilds_the_same_config(make):
    layer = make()
    config = layer.get_config()
    again = type(layer).from_config(json.loads(json.dumps(config)))
    assert again.get_config() == config


def test_model_with_every_image_layer_saves_and_loads_exactly(tmp_path):
    inputs = Input(shape=(6, 6, 3))
    x = inputs
    for make in IMAGE_LAYERS[:-1]:
        x = make()(x)
    norm = Normalization()
    norm.adapt(np.random.default_rng(0).random((20, 3, 3, 3)).astype(np.float32))
    x = norm(x)
    gate = Multiply()([x, Softmax()(x)])
    model = Model(inputs, Dense(2)(Flatten()(gate)))
    model.eval()
    data = torch.rand(2, 6, 6, 3)
    expected = model(data)
    model.save(tmp_path / "m.cnnkit")
    loaded = load_model(tmp_path / "m.cnnkit")
    loaded.eval()
    torch.testing.assert_close(loaded(data), expected)
    assert [type(layer).__name__ for layer in loaded.layers] == [
        type(layer).__name__ for layer in model.layers
    ]
    restored = loaded.get_layer(norm.name)
    torch.testing.assert_close(restored.mean, norm.mean)
    assert restored.count.item() == 20 * 9


def test_sequence_model_round_trip(tmp_path):
    model = Sequential([Input(shape=(12, 2)), Conv1D(4, 3)] + [m() for m in SEQUENCE_LAYERS[:2]]
                       + [GlobalMaxPooling1D(), Dense(1)])  # fmt: skip
    model.save(tmp_path / "s.cnnkit")
    x = torch.rand(3, 12, 2)
    torch.testing.assert_close(load_model(tmp_path / "s.cnnkit")(x), model(x))
