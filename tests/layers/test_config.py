"""Every layer's get_config is JSON-serialisable and rebuilds an equivalent layer."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from cnnkit.layers import (
    Activation,
    Add,
    AveragePooling2D,
    BatchNormalization,
    Concatenate,
    Conv1D,
    Conv2D,
    Dense,
    DepthwiseConv2D,
    Dropout,
    Flatten,
    GlobalAveragePooling2D,
    GlobalMaxPooling2D,
    InputLayer,
    LeakyReLU,
    MaxNorm,
    MaxPooling2D,
    ReLU,
    Rescaling,
    Reshape,
    SeparableConv2D,
    VarianceScaling,
    ZeroPadding2D,
    l2,
)

IMAGE = (6, 6, 4)
LAYERS = [
    lambda: Conv2D(
        3,
        (3, 2),
        strides=2,
        padding=((1, 0), (0, 1)),
        activation="relu",
        kernel_initializer=VarianceScaling(2.0, "fan_out", "uniform"),
        kernel_regularizer=l2(1e-4),
        kernel_constraint=MaxNorm(3, axis=[0, 1, 2]),
        activity_regularizer="l1",
        input_shape=IMAGE,
    ),
    lambda: Conv2D(4, 3, groups=2, padding="same", use_bias=False, input_shape=IMAGE),
    lambda: Conv1D(2, 3, padding="causal", input_shape=(6, 4)),
    lambda: DepthwiseConv2D(3, depth_multiplier=2, depthwise_regularizer="l2", input_shape=IMAGE),
    lambda: SeparableConv2D(
        5, 3, padding="same", pointwise_initializer="he_normal", input_shape=IMAGE
    ),
    lambda: MaxPooling2D(3, 2, padding=1, input_shape=IMAGE),
    lambda: AveragePooling2D(2, padding="same", count_include_pad=True, input_shape=IMAGE),
    lambda: GlobalAveragePooling2D(keepdims=True, input_shape=IMAGE),
    lambda: GlobalMaxPooling2D(input_shape=IMAGE),
    lambda: Dense(7, activation="softmax", bias_initializer="ones", input_shape=(4,)),
    lambda: Flatten(input_shape=IMAGE),
    lambda: Reshape((-1, 4), input_shape=IMAGE),
    lambda: Dropout(0.3, noise_shape=(None, 1, 1, 4)),
    lambda: BatchNormalization(momentum=0.9, epsilon=1e-5, input_shape=IMAGE),
    lambda: Activation("gelu"),
    lambda: ReLU(max_value=6.0),
    lambda: LeakyReLU(0.1),
    lambda: Rescaling(1 / 255),
    lambda: ZeroPadding2D(((1, 2), (3, 4)), input_shape=IMAGE),
    lambda: Concatenate(axis=1),
    lambda: Add(),
    lambda: InputLayer(shape=IMAGE),
]


@pytest.mark.parametrize("make", LAYERS, ids=lambda m: type(m()).__name__)
def test_config_round_trip(make):
    layer = make()
    config = json.loads(json.dumps(layer.get_config()))
    clone = type(layer).from_config(config)
    assert clone.get_config() == config
    assert clone.name == layer.name
    if layer.built and layer.count_params():
        clone.set_weights(layer.get_weights())
        x = torch.randn(2, *layer._batch_input_shape[1:])
        layer.eval()
        clone.eval()
        torch.testing.assert_close(clone(x), layer(x))
        assert [w.shape for w in clone.get_weights()] == [w.shape for w in layer.get_weights()]


def test_custom_activation_config_names_the_function():
    def my_act(x):
        return x * 2

    layer = Dense(2, activation=my_act)
    assert layer.get_config()["activation"] == "my_act"
    np.testing.assert_allclose(
        layer(torch.ones(1, 3)).detach().numpy(),
        2 * (np.ones((1, 3)) @ layer.get_weights()[0]),
        rtol=1e-6,
    )
