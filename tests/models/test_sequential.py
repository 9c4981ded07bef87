"""Sequential: list, add, pop, layers, get_layer, building as soon as the shape is known."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from cnnkit.layers import Conv2D, Dense, Flatten, Input, InputLayer, MaxPooling2D
from cnnkit.models import Sequential


def test_input_shape_on_first_layer_builds_at_once():
    model = Sequential([Conv2D(32, 3, activation="relu", input_shape=(28, 28, 1))])
    assert model.built
    assert model.output_shape == (None, 26, 26, 32)
    model.add(MaxPooling2D())
    assert model.output_shape == (None, 13, 13, 32)  # built on add


def test_leading_input_is_not_a_layer():
    model = Sequential([Input(shape=(28, 28, 1)), Flatten(), Dense(10)])
    assert [type(layer).__name__ for layer in model.layers] == ["Flatten", "Dense"]
    assert model.input_shape == (None, 28, 28, 1)
    assert model.count_params() == 7850


def test_input_layer_instance_is_accepted():
    model = Sequential([InputLayer(shape=(4,)), Dense(2)])
    assert model.output_shape == (None, 2)


def test_builds_from_the_first_batch_and_accepts_numpy():
    model = Sequential()
    model.add(Flatten())
    model.add(Dense(3))
    assert not model.built
    out = model(np.ones((2, 5, 2)))
    assert out.shape == (2, 3)
    assert model.input_shape == (None, 5, 2)
    assert model.count_params() == 33


def test_build_call():
    model = Sequential([Flatten(), Dense(3)])
    model.build((None, 4, 4, 1))
    assert model.output_shape == (None, 3)
    assert model.count_params() == 51


def test_pop_and_get_layer():
    model = Sequential([Dense(8, input_shape=(4,)), Dense(3), Dense(2)])
    last = model.pop()
    assert last.name == "dense_2"
    assert model.output_shape == (None, 3)
    assert model.get_layer(index=1).name == "dense_1"
    assert model.get_layer("dense") is model.layers[0]
    assert "dense_2" not in dict(model.named_children())
    model.add(Dense(5))
    assert model.output_shape == (None, 5)


def test_state_dict_keys_use_layer_names():
    model = Sequential([Dense(3, input_shape=(4,), name="hidden"), Dense(2, name="out")])
    assert list(model.state_dict()) == ["hidden.weight", "hidden.bias", "out.weight", "out.bias"]


def test_forward_matches_layer_by_layer():
    model = Sequential([Conv2D(4, 3, input_shape=(6, 6, 2)), Flatten(), Dense(3)])
    x = torch.randn(3, 6, 6, 2)
    expected = model.layers[2](model.layers[1](model.layers[0](x)))
    torch.testing.assert_close(model(x), expected)


def test_nested_sequential_as_a_layer():
    inner = Sequential([Dense(4, input_shape=(3,)), Dense(4)])
    outer = Sequential([Input(shape=(3,)), inner, Dense(1)])
    assert outer.count_params() == 16 + 20 + 5
    assert outer(torch.ones(2, 3)).shape == (2, 1)


def test_errors():
    with pytest.raises(TypeError, match=r"add\(\) expects a cnnkit layer.*layer='Linear'"):
        Sequential([nn.Linear(2, 2)])
    with pytest.raises(ValueError, match=r"layer names must be unique; 'x' is already"):
        Sequential([Dense(2, name="x"), Dense(2, name="x")])
    with pytest.raises(ValueError, match=r"an Input can only be the first entry"):
        Sequential([Dense(2), Input(shape=(3,))])
    with pytest.raises(ValueError, match=r"pop\(\) on a model with no layers"):
        Sequential().pop()
    with pytest.raises(ValueError, match=r"clashes with a model attribute"):
        Sequential([Dense(2, name="layers", input_shape=(3,))])


def test_layer_that_rejects_the_shape_is_not_added():
    model = Sequential([Input(shape=(4, 4, 1)), Conv2D(2, 3)])
    with pytest.raises(ValueError, match=r"conv2d_1"):
        model.add(Conv2D(2, 5))  # 2x2 input, 5x5 kernel
    assert len(model.layers) == 1
    assert model.output_shape == (None, 2, 2, 2)


def test_symbolic_input_and_output_make_a_functional_model():
    from cnnkit.models import Model

    seq = Sequential([Conv2D(2, 3, input_shape=(6, 6, 1)), Flatten(), Dense(3)])
    assert seq.input.shape == (None, 6, 6, 1) and seq.output.shape == (None, 3)
    twin = Model(seq.input, seq.output)  # same layers, same weights
    x = torch.randn(2, 6, 6, 1)
    torch.testing.assert_close(twin(x), seq(x))
    assert twin.count_params() == seq.count_params()
    with pytest.raises(ValueError, match=r"Cannot read the inputs of model"):
        _ = Sequential([Dense(2)]).input


def test_config_keeps_the_build_shape():
    model = Sequential([Flatten(), Dense(3)])
    model.build((None, 2, 2))
    clone = Sequential.from_config(model.get_config())
    assert clone.built and clone.input_shape == (None, 2, 2)
    assert clone.count_params() == 15
