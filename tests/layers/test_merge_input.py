"""Input, Add and Concatenate: symbolic shapes and real computation."""

from __future__ import annotations

import torch

from cnnkit.layers import Add, Concatenate, Conv2D, Input, InputLayer, add, concatenate


def test_input_returns_keras_tensor_from_input_layer():
    x = Input(shape=(28, 28, 1))
    assert x.shape == (None, 28, 28, 1)
    assert isinstance(x.node.layer, InputLayer)
    assert x.node.layer.name == "input_layer"
    assert Input(shape=(3,), batch_size=8, name="features").shape == (8, 3)
    assert Input(shape=(3,)).node.layer.name == "input_layer_1"


def test_auto_names_follow_keras():
    names = [Conv2D(1, 1).name for _ in range(3)]
    assert names == ["conv2d", "conv2d_1", "conv2d_2"]


def test_add_symbolic_and_real():
    a, b = Input(shape=(4, 4, 3)), Input(shape=(4, 4, 3))
    assert Add()([a, b]).shape == (None, 4, 4, 3)
    x, y = torch.randn(2, 4, 4, 3), torch.randn(2, 4, 4, 3)
    torch.testing.assert_close(Add()([x, y, x]), 2 * x + y)


def test_concatenate_channels_and_other_axis():
    a, b = Input(shape=(4, 4, 3)), Input(shape=(4, 4, 5))
    assert Concatenate()([a, b]).shape == (None, 4, 4, 8)
    x, y = torch.randn(2, 4, 4, 3), torch.randn(2, 4, 6, 3)
    torch.testing.assert_close(Concatenate(axis=2)([x, y]), torch.cat([x, y], 2))
    assert Concatenate(axis=1)([Input(shape=(None, 2)), Input(shape=(3, 2))]).shape == (
        None,
        None,
        2,
    )


def test_functional_shortcuts():
    a, b = Input(shape=(4, 4, 3)), Input(shape=(4, 4, 3))
    summed = add([a, b], name="residual")
    assert summed.shape == (None, 4, 4, 3) and isinstance(summed.node.layer, Add)
    assert summed.node.layer.name == "residual"
    joined = concatenate([a, b], axis=-1)
    assert joined.shape == (None, 4, 4, 6) and joined.node.layer.axis == -1
    x = torch.randn(2, 3)
    torch.testing.assert_close(concatenate([x, x], axis=0), torch.cat([x, x]))
