"""Keras' layer.input/output/input_shape/output_shape and kernel/bias (feature-map pattern)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from cnnkit.layers import Add, Conv2D, Dense, Flatten, Input, MaxPooling2D
from cnnkit.models import Model, Sequential


def small_cnn() -> Sequential:
    return Sequential(
        [
            Input(shape=(12, 12, 1)),
            Conv2D(4, 3, activation="relu"),
            MaxPooling2D(),
            Conv2D(6, 3),
            Flatten(),
            Dense(3),
        ]
    )


def test_sequential_feature_map_model_returns_list_of_arrays():
    model = small_cnn()
    x = np.random.default_rng(0).random((5, 12, 12, 1), dtype=np.float32)
    maps = Model(inputs=model.input, outputs=[layer.output for layer in model.layers[:3]])
    out = maps.predict(x, verbose=0)
    assert isinstance(out, list) and [o.shape for o in out] == [
        (5, 10, 10, 4),
        (5, 5, 5, 4),
        (5, 3, 3, 6),
    ]
    # The activation model shares the layers: its maps are the model's intermediate values.
    t = torch.from_numpy(x)
    with torch.no_grad():
        first = model.layers[0](t)
        third = model.layers[2](model.layers[1](first))
    np.testing.assert_allclose(out[0], first.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(out[2], third.numpy(), rtol=1e-5, atol=1e-6)


def test_functional_feature_map_model_and_shapes():
    inputs = Input(shape=(8, 8, 3))
    a = Conv2D(2, 3, padding="same", name="a")(inputs)
    b = Conv2D(3, 1, name="b")(inputs)
    merged = Add(name="add")([a, Conv2D(2, 1, name="c")(b)])
    model = Model(inputs, Dense(4, name="head")(Flatten()(merged)))
    add = model.get_layer("add")
    assert isinstance(add.input, list) and add.input_shape == [(None, 8, 8, 2), (None, 8, 8, 2)]
    assert add.output_shape == (None, 8, 8, 2)
    assert model.layers[0].input is inputs and model.layers[0].output is inputs
    assert model.get_layer("b").input_shape == (None, 8, 8, 3)
    assert model.get_layer("head").output_shape == (None, 4)
    maps = Model(model.input, [layer.output for layer in model.layers[1:]])
    out = maps.predict(np.ones((2, 8, 8, 3), np.float32), verbose=0)
    assert [o.shape[1:] for o in out] == [t.shape[1:] for t in maps.outputs]


def test_latest_call_wins():
    dense = Dense(2)
    dense(Input(shape=(3,)))
    second = Input(shape=(3,))
    y = dense(second)
    assert dense.input is second and dense.output is y


@pytest.mark.parametrize("attribute", ["input", "output", "input_shape", "output_shape"])
def test_never_called_layer_has_no_io(attribute):
    layer = Conv2D(2, 3, name="lonely")
    with pytest.raises(
        ValueError, match=rf"'lonely' \(Conv2D\) has never been called.*`{attribute}`"
    ):
        getattr(layer, attribute)


def test_layer_built_from_a_real_tensor_is_not_symbolic():
    layer = Dense(2, name="eager")
    layer(torch.ones(1, 3))
    with pytest.raises(ValueError, match="has never been called on a symbolic input"):
        _ = layer.output


def test_kernel_and_bias_are_the_torch_parameters():
    conv = Conv2D(4, 3, input_shape=(8, 8, 2))
    dense = Dense(5, input_shape=(7,), use_bias=False)
    assert conv.kernel is conv.weight and tuple(conv.kernel.shape) == (4, 2, 3, 3)
    assert conv.bias is not None and tuple(conv.bias.shape) == (4,)
    assert dense.kernel is dense.weight and tuple(dense.kernel.shape) == (5, 7)
    assert dense.bias is None
    assert conv.get_weights()[0].shape == (3, 3, 2, 4)  # Keras layout stays in get_weights
    with pytest.raises(AttributeError):
        conv.kernel = torch.zeros(4, 2, 3, 3)
