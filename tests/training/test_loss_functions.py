"""``compile(loss=callable)`` and Keras' loss functions in ``losses``."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from cnnkit import losses as keras_losses
from cnnkit.layers import Dense, Input
from cnnkit.models import Sequential, load_model
from cnnkit.training import losses
from cnnkit.training.losses import FunctionLoss, get_loss


def _model(activation=None, units=3):
    torch.manual_seed(0)
    model = Sequential([Input((4,)), Dense(units, activation=activation)])
    return model


X = np.random.default_rng(0).random((16, 4), dtype=np.float32)
Y_INT = np.arange(16) % 3
Y_HOT = np.eye(3, dtype=np.float32)[Y_INT]


@pytest.mark.parametrize(
    ("fn", "cls", "y"),
    [
        (losses.categorical_crossentropy, losses.CategoricalCrossentropy, Y_HOT),
        (losses.sparse_categorical_crossentropy, losses.SparseCategoricalCrossentropy, Y_INT),
        (losses.binary_crossentropy, losses.BinaryCrossentropy, Y_HOT),
        (losses.mean_squared_error, losses.MeanSquaredError, Y_HOT),
        (losses.mse, losses.MeanSquaredError, Y_HOT),
        (losses.mean_absolute_error, losses.MeanAbsoluteError, Y_HOT),
        (losses.mae, losses.MeanAbsoluteError, Y_HOT),
    ],
)
def test_loss_functions_are_per_sample_and_match_their_class(fn, cls, y):
    pred = torch.softmax(torch.randn(16, 3, generator=torch.Generator().manual_seed(1)), -1)
    value = fn(y, pred)  # arrays are accepted like Keras'
    assert value.shape == (16,)
    torch.testing.assert_close(value, cls().unreduced(torch.as_tensor(y), pred))
    assert isinstance(get_loss(fn), cls)  # compile maps it to the class (stable logits path)
    assert getattr(keras_losses, fn.__name__) is fn


def test_categorical_crossentropy_value_by_hand():
    pred = torch.tensor([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]])
    value = losses.categorical_crossentropy(torch.tensor([[1.0, 0, 0], [0, 1.0, 0]]), pred)
    torch.testing.assert_close(value, torch.tensor([-np.log(0.7), -np.log(0.1)]).float())
    logits = losses.categorical_crossentropy(
        torch.tensor([[1.0, 0, 0]]), torch.tensor([[2.0, 0.0, 0.0]]), from_logits=True
    )
    torch.testing.assert_close(logits, torch.tensor([np.log(1 + 2 * np.exp(-2.0))]).float())


def test_compile_with_a_custom_function_trains_on_probabilities():
    seen = []

    def my_loss(y_true, y_pred):
        seen.append(float(y_pred.detach().sum(-1).mean()))  # probabilities: rows sum to 1
        return (y_true - y_pred).square().sum(-1)

    model = _model("softmax")
    model.compile(optimizer="adam", loss=my_loss)
    before = model.evaluate(X, Y_HOT, verbose=0)
    history = model.fit(X, Y_HOT, epochs=3, batch_size=8, verbose=0)
    assert seen and all(abs(s - 1.0) < 1e-5 for s in seen)
    assert history.history["loss"][-1] < before
    expected = torch.as_tensor(Y_HOT) - torch.as_tensor(model.predict(X, verbose=0))
    assert model.evaluate(X, Y_HOT, verbose=0) == pytest.approx(
        float(expected.square().sum(-1).mean()), rel=1e-5
    )


def test_scalar_and_multi_axis_returns_are_reduced_like_keras():
    y, pred = torch.ones(4, 2), torch.zeros(4, 2)
    scalar = FunctionLoss(lambda t, p: (t - p).abs().mean()).unreduced(y, pred)
    torch.testing.assert_close(scalar, torch.ones(4))
    multi = FunctionLoss(lambda t, p: (t - p) * torch.tensor([1.0, 3.0])).unreduced(y, pred)
    torch.testing.assert_close(multi, torch.full((4,), 2.0))


def test_bad_function_results_raise():
    with pytest.raises(TypeError, match=r"must return a torch tensor.*type='float'"):
        FunctionLoss(lambda t, p: 1.0)(torch.ones(2, 2), torch.ones(2, 2))
    with pytest.raises(ValueError, match=r"scalar or one value per sample.*shape=\(3,\), batch=2"):
        FunctionLoss(lambda t, p: torch.ones(3))(torch.ones(2, 2), torch.ones(2, 2))
    with pytest.raises(TypeError, match=r"`loss` must be a loss name.*function"):
        get_loss(3)


def test_loss_get_config_round_trips():
    loss = losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.1)
    config = json.loads(json.dumps(loss.get_config()))
    assert config == {"from_logits": True, "label_smoothing": 0.1}
    assert losses.CategoricalCrossentropy(**config).get_config() == config
    assert FunctionLoss(abs).get_config() == {"fn": abs}
    with pytest.raises(TypeError, match=r"`fn` must be a function.*fn='abs'"):
        FunctionLoss("abs")


def test_saving_a_model_with_a_function_loss_skips_only_the_compile_state(tmp_path):
    model = _model()
    model.compile(optimizer="adam", loss=FunctionLoss(lambda t, p: (t - p).abs().mean(-1)))
    model.save(tmp_path / "m.cnnkit")
    loaded = load_model(tmp_path / "m.cnnkit")
    assert loaded.optimizer is None  # not compiled, rather than compiled with a broken loss
    np.testing.assert_allclose(loaded.predict(X, verbose=0), model.predict(X, verbose=0))
