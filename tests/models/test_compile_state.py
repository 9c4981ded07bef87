"""load_model restores compile(...) given Keras-style objects; metrics_names."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from safetensors.torch import load_file, save_file

from cnnkit.layers import Dense, Input
from cnnkit.models import Sequential, load_model
from cnnkit.models._compile_config import decode_compile_config, encode_compile_config
from cnnkit.training import losses, metrics, optimizers


class MyLoss(losses.MeanSquaredError):
    """A user's own loss class."""


def tiny() -> Sequential:
    return Sequential([Input(shape=(4,)), Dense(3)])


def test_objects_round_trip_through_save_and_load(tmp_path):
    model = tiny()
    model.compile(
        optimizer=optimizers.Adam(1e-4, beta_1=0.8, epsilon=1e-6, clipnorm=1.0),
        loss=losses.SparseCategoricalCrossentropy(from_logits=True, label_smoothing=0.1),
        metrics=["accuracy", metrics.SparseTopKCategoricalAccuracy(k=2, name="top2")],
    )
    model.save(tmp_path / "m.cnnkit")
    loaded = load_model(tmp_path / "m.cnnkit")
    trainer = loaded._trainer
    x = np.zeros((2, 4), np.float32)
    loaded.evaluate(x, np.array([0, 1]), verbose=0)  # builds the optimizer lazily if needed
    group = loaded.optimizer.param_groups[0]
    assert isinstance(loaded.optimizer, torch.optim.Adam)
    assert group["lr"] == pytest.approx(1e-4) and group["betas"] == (0.8, 0.999)
    assert group["eps"] == pytest.approx(1e-6)
    assert trainer._spec.clipnorm == 1.0
    assert isinstance(trainer.loss, losses.SparseCategoricalCrossentropy)
    assert trainer.loss.from_logits and trainer.loss.label_smoothing == pytest.approx(0.1)
    assert loaded.metrics_names == ["loss", "accuracy", "top2"]
    assert trainer.metrics[1].k == 2


@pytest.mark.parametrize(
    "optimizer",
    [
        optimizers.SGD(0.05, momentum=0.9, nesterov=True),
        optimizers.RMSprop(1e-3, rho=0.8),
        optimizers.AdamW(2e-3, weight_decay=0.01),
        optimizers.Adagrad(0.1, initial_accumulator_value=0.2),
    ],
)
def test_every_optimizer_rebuilds_with_its_settings(optimizer):
    config = encode_compile_config({"optimizer": optimizer})
    json.dumps(config)
    rebuilt = decode_compile_config(json.loads(json.dumps(config)))["optimizer"]
    assert type(rebuilt) is type(optimizer)
    assert vars(rebuilt) == vars(optimizer)


def test_unencodable_arguments_leave_no_compile_state(tmp_path):
    model = tiny()
    model.compile(optimizer=torch.optim.SGD(model.parameters(), lr=0.1), loss="mse")
    assert model._compile_config is None
    model.compile(optimizer="adam", loss=MyLoss())  # not a class the loader may build
    assert model._compile_config is None
    model.save(tmp_path / "m.cnnkit")
    assert not load_model(tmp_path / "m.cnnkit").compiled


def test_a_file_naming_an_unknown_class_is_refused(tmp_path):
    model = tiny()
    model.compile(optimizer=optimizers.Adam(1e-4), loss="mse")
    model.save(tmp_path / "m.cnnkit")
    path = tmp_path / "m.cnnkit"
    from cnnkit.models._files import read_safetensors

    meta, _ = read_safetensors(path)
    config = json.loads(meta["compile_config"])
    config["optimizer"]["class_name"] = "Adamm"
    meta["compile_config"] = json.dumps(config)
    save_file(load_file(str(path)), str(path), metadata=meta)
    with pytest.raises(ValueError, match=r"Unknown optimizer class.*'Adamm'.*Did you mean"):
        load_model(path)
    config["optimizer"]["class_name"] = "Optimizer"  # the base class is not in the table
    with pytest.raises(ValueError, match="'Optimizer'"):
        decode_compile_config(config)
    config["optimizer"] = {"__cnnkit__": "callback", "class_name": "X", "config": {}}
    with pytest.raises(ValueError, match="unknown object kind"):
        decode_compile_config(config)
    with pytest.raises(ValueError, match="expected a JSON object"):
        decode_compile_config([1])
    bad = {"loss": {"__cnnkit__": "loss", "class_name": "MeanSquaredError",
                    "config": {"label_smoothing": 2.0}}}  # fmt: skip
    with pytest.raises(ValueError, match="label_smoothing"):
        decode_compile_config(bad)
    bad = {"metrics": [{"__cnnkit__": "metric", "class_name": "BinaryAccuracy",
                        "config": {"bogus": 1}}]}  # fmt: skip
    with pytest.raises(ValueError, match="Cannot rebuild the saved metric BinaryAccuracy"):
        decode_compile_config(bad)


def test_metrics_names_follow_compile():
    model = tiny()
    assert model.metrics_names == []
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    assert model.metrics_names == ["loss"]
    model.compile(loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    assert model.metrics_names == ["loss", "accuracy"]
    result = model.evaluate(np.zeros((3, 4), np.float32), np.array([0, 1, 2]), verbose=0)
    assert len(result) == len(model.metrics_names)
