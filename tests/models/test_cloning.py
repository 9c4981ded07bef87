"""clone_model, model.to_json and model_from_json: same architecture, fresh weights, safe lookup."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from cnnkit.layers import BatchNormalization, Conv2D, Dense, Flatten, Input, Lambda, concatenate
from cnnkit.models import Model, Sequential, clone_model, model_from_json
from tests.models.test_model import TinyNet


def functional() -> Model:
    inputs = Input(shape=(8, 8, 3))
    a = Conv2D(4, 3, padding="same", name="a")(inputs)
    b = Conv2D(2, 1, name="b")(inputs)
    x = BatchNormalization(name="bn")(concatenate([a, b], name="cat"))
    return Model(inputs, Dense(3, name="head")(Flatten(name="flat")(x)), name="twin")


def sequential() -> Sequential:
    return Sequential([Input(shape=(6,)), Dense(5, activation="relu"), Dense(2)], name="seq")


@pytest.mark.parametrize("make", [functional, sequential])
def test_clone_has_same_architecture_and_fresh_weights(make):
    model = make()
    clone = clone_model(model)
    assert clone is not model and type(clone) is type(model)
    assert [layer.name for layer in clone.layers] == [layer.name for layer in model.layers]
    assert clone.count_params() == model.count_params()
    assert clone.get_config() == model.get_config()
    assert not set(map(id, clone.parameters())) & set(map(id, model.parameters()))
    differs = [
        not np.array_equal(a, b)
        for a, b in zip(clone.get_weights(), model.get_weights(), strict=True)
        if a.std() > 0
    ]
    assert differs and all(differs)  # every random weight was drawn afresh
    clone.set_weights(model.get_weights())
    x = torch.rand(2, *model.input_shape[1:])
    clone.eval(), model.eval()
    torch.testing.assert_close(clone(x), model(x))


@pytest.mark.parametrize("make", [functional, sequential])
def test_to_json_round_trip(make):
    model = make()
    text = model.to_json(indent=2)
    assert json.loads(text)["class_name"] == type(model).__name__
    rebuilt = model_from_json(text)
    assert rebuilt.to_json(indent=2) == text
    assert rebuilt.summary(show=False).total_params == model.count_params()


class NoConfigNet(TinyNet):
    get_config = Model.get_config  # a subclassed model that never wrote get_config


def test_subclassed_models_clone_through_their_own_config():
    model = TinyNet(classes=3)
    clone = clone_model(model, custom_objects={"TinyNet": TinyNet})
    assert type(clone) is TinyNet and clone.classes == 3
    assert clone.count_params() == model.count_params()


def test_errors():
    with pytest.raises(ValueError, match=r"NoConfigNet\) cannot be cloned.*get_config"):
        clone_model(NoConfigNet())
    with pytest.raises(ValueError, match=r"NoConfigNet\) cannot be written as JSON"):
        NoConfigNet().to_json()
    with pytest.raises(TypeError, match="expected a cnnkit model"):
        clone_model(Dense(2))
    with pytest.raises(ValueError, match="not valid JSON"):
        model_from_json("{not json")
    with pytest.raises(TypeError, match="expects a JSON string"):
        model_from_json({"class_name": "Sequential"})
    with pytest.raises(ValueError, match="describes a layer, not a model"):
        model_from_json(json.dumps({"class_name": "Dense", "config": {"units": 2}}))
    evil = {"class_name": "system", "module": "os", "config": {}}
    with pytest.raises(ValueError, match=r"Unknown layer class 'system'.*refusing to import"):
        model_from_json(json.dumps(evil))
    with_lambda = Sequential([Input(shape=(2,)), Lambda(lambda t: t + 1)])
    with pytest.raises(ValueError, match="cannot be serialised"):
        with_lambda.to_json()
