"""Functional models: branches, merges, several inputs/outputs, shared layers, config."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from cnnkit.layers import (
    Activation,
    Add,
    BatchNormalization,
    Concatenate,
    Conv2D,
    Dense,
    Dropout,
    Flatten,
    GlobalAveragePooling2D,
    Input,
    MaxPooling2D,
)
from cnnkit.models import Functional, Model


def residual_model() -> Model:
    inputs = Input(shape=(8, 8, 4))
    x = Conv2D(4, 3, padding="same")(inputs)
    x = BatchNormalization()(x)
    x = Activation("relu")(x)
    x = Add()([inputs, x])
    x = GlobalAveragePooling2D()(x)
    return Model(inputs, Dense(3, activation="softmax")(x))


def test_model_call_with_tensors_is_functional():
    model = residual_model()
    assert isinstance(model, Functional) and isinstance(model, Model)
    assert [type(layer).__name__ for layer in model.layers] == [
        "InputLayer", "Conv2D", "BatchNormalization", "Activation", "Add",
        "GlobalAveragePooling2D", "Dense",
    ]  # fmt: skip
    assert model.count_params() == (36 * 4 + 4) + 8 + 15
    assert model.input_shape == (None, 8, 8, 4)
    assert model.output_shape == (None, 3)


def test_residual_forward_matches_hand_computation():
    model = residual_model().eval()
    x = torch.randn(2, 8, 8, 4)
    conv, bn, act, _, gap, dense = model.layers[1:]
    expected = dense(gap(x + act(bn(conv(x)))))
    torch.testing.assert_close(model(x), expected)
    torch.testing.assert_close(model(x.numpy()), expected)


def test_inception_style_branches_and_concatenate():
    inputs = Input(shape=(16, 16, 3))
    a = Conv2D(4, 1, padding="same")(inputs)
    b = Conv2D(6, 3, padding="same")(inputs)
    c = MaxPooling2D(3, strides=1, padding="same")(inputs)
    merged = Concatenate()([a, b, c])
    model = Model(inputs, merged)
    assert model.output_shape == (None, 16, 16, 13)
    assert model(torch.zeros(1, 16, 16, 3)).shape == (1, 16, 16, 13)


def test_multiple_inputs_and_outputs():
    image, extra = Input(shape=(4, 4, 1), name="image"), Input(shape=(2,), name="extra")
    flat = Flatten()(image)
    both = Concatenate()([flat, extra])
    out1, out2 = Dense(3, name="head1")(both), Dense(1, name="head2")(both)
    model = Model(inputs=[image, extra], outputs=[out1, out2])
    assert model.input_shape == [(None, 4, 4, 1), (None, 2)]
    assert model.output_shape == [(None, 3), (None, 1)]
    y1, y2 = model([np.ones((5, 4, 4, 1)), np.ones((5, 2))])
    assert y1.shape == (5, 3) and y2.shape == (5, 1)


def test_shared_layer_is_counted_once_and_reused():
    inputs_a, inputs_b = Input(shape=(3,)), Input(shape=(3,))
    shared = Dense(2, name="shared")
    model = Model([inputs_a, inputs_b], Add()([shared(inputs_a), shared(inputs_b)]))
    assert model.count_params() == 8
    assert [layer.name for layer in model.layers].count("shared") == 1
    a, b = torch.randn(4, 3), torch.randn(4, 3)
    torch.testing.assert_close(model([a, b]), shared(a) + shared(b))
    config = model.get_config()
    entry = next(e for e in config["layers"] if e["config"]["name"] == "shared")
    assert len(entry["inbound_nodes"]) == 2


def test_explicit_training_kwarg_on_a_node_wins():
    inputs = Input(shape=(1000,))
    model = Model(inputs, Dropout(0.5)(inputs, training=True))
    model.eval()
    out = model(torch.ones(1, 1000))
    assert (out == 0).any()  # dropout stayed active in eval mode, as asked


def test_config_round_trip_rebuilds_the_same_graph():
    model = residual_model()
    clone = Model.from_config(model.get_config())  # Keras spelling; dispatches to Functional
    clone.load_state_dict(model.state_dict())
    x = torch.randn(2, 8, 8, 4)
    model.eval(), clone.eval()
    torch.testing.assert_close(model(x), clone(x))
    assert clone.get_config() == model.get_config()


def test_nested_functional_model_as_a_layer():
    inner = residual_model()
    inputs = Input(shape=(8, 8, 4))
    outer = Model(inputs, Dense(1)(inner(inputs)))
    assert outer.count_params() == inner.count_params() + 4
    assert outer(torch.zeros(2, 8, 8, 4)).shape == (2, 1)
    rebuilt = Functional.from_config(outer.get_config())
    assert rebuilt.count_params() == outer.count_params()


def test_errors():
    inputs = Input(shape=(4,))
    hidden = Dense(2)(inputs)
    other = Input(shape=(4,))
    with pytest.raises(ValueError, match=r"Graph disconnected: cannot reach tensor"):
        Model(other, hidden)
    with pytest.raises(ValueError, match=r"input tensor 'dense' is the output of layer 'dense'"):
        Model(hidden, Dense(1)(hidden))
    with pytest.raises(TypeError, match=r"every entry of `outputs` must be a symbolic tensor"):
        Model(inputs, torch.zeros(1))
    first, second = Dense(1, name="twin")(inputs), Dense(1, name="twin")(inputs)
    with pytest.raises(ValueError, match=r"two different layers are named 'twin'"):
        Model(inputs, [first, second])
    model = Model(inputs, hidden)
    with pytest.raises(ValueError, match=r"Input 0 of model .* Expected shape \(None, 4\)"):
        model(torch.zeros(2, 5))
    with pytest.raises(ValueError, match=r"expects 1 input\(s\) but was called with 2"):
        model([torch.zeros(2, 4), torch.zeros(2, 4)])


def test_corrupted_config_errors():
    config = residual_model().get_config()
    config["output_layers"] = [["nope", 0, 0]]
    with pytest.raises(ValueError, match=r"`output_layers` names unknown tensors"):
        Functional.from_config(config)
    config = residual_model().get_config()
    config["layers"][2]["inbound_nodes"][0]["args"] = [["ghost", 0, 0]]
    with pytest.raises(ValueError, match=r"refer to tensors that no layer produces"):
        Functional.from_config(config)
    config["layers"][2]["inbound_nodes"][0]["args"] = [["ghost", [0], 0]]
    with pytest.raises(ValueError, match=r"must be \[layer_name, node, index\]"):
        Functional.from_config(config)


def test_subclassed_model_inside_a_functional_graph():
    from tests.models.test_model import TinyNet

    backbone = TinyNet(classes=4)
    inputs = Input(shape=(8, 8, 3))
    model = Model(inputs, Dense(2, name="head")(backbone(inputs)))
    assert model.output_shape == (None, 2)
    assert model.count_params() == backbone.count_params() + 10
    assert model.get_layer(1) is backbone  # an int as first argument is an index
    rows = model.summary(show=False).rows
    assert [r.name for r in rows][:4] == ["input_layer", "tiny_net", "conv", "bn"]
    assert rows[1].counted is False and rows[2].depth == 1
