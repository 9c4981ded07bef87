"""Keras-2 optimizer keywords, Adadelta/Nadam numerics, ``optimizer.learning_rate``, get_config."""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pytest
import torch

from cnnkit import optimizers as keras_optimizers
from cnnkit.layers import Dense, Input
from cnnkit.models import Sequential
from cnnkit.training import _optimizer_compat
from cnnkit.training.optimizers import SGD, Adadelta, Adam, Nadam, RMSprop, get_optimizer


def test_lr_is_a_deprecated_alias_warned_once(monkeypatch):
    monkeypatch.setattr(_optimizer_compat, "_warned_lr", False)
    with pytest.warns(FutureWarning, match=r"`lr` argument is deprecated, use `learning_rate`"):
        assert Adam(lr=0.01).learning_rate == 0.01
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a second warning would raise here
        assert SGD(lr=0.1).learning_rate == 0.1


def test_decay_raises_naming_the_replacement():
    with pytest.raises(ValueError, match=r"`decay` argument is not supported.*decay=1e-06.*"
                       r"LearningRateScheduler"):  # fmt: skip
        SGD(learning_rate=0.1, decay=1e-6)
    assert SGD(decay=0.0).learning_rate == 0.01  # Keras 2's default decay is the no-op


def test_unknown_keyword_is_a_type_error_with_suggestions():
    with pytest.raises(TypeError, match=r"unexpected keyword argument 'momentun'.*"
                       r"Did you mean 'momentum'"):  # fmt: skip
        SGD(momentun=0.9)
    with pytest.raises(TypeError, match=r"'beta1'.*Did you mean 'beta_1'"):
        Adam(beta1=0.8)


def test_noop_keywords_only_at_their_noop_value():
    assert RMSprop(name="rms", jit_compile=True, use_ema=False).learning_rate == 1e-3
    with pytest.raises(
        ValueError, match=r"`use_ema=True` is not supported.*Expected use_ema=False"
    ):
        Adam(use_ema=True)


def _steps(spec, grads):
    param = torch.nn.Parameter(torch.tensor([1.0, -2.0], dtype=torch.float64))
    opt, _ = get_optimizer(spec, [param])
    for g in grads:
        param.grad = torch.tensor(g, dtype=torch.float64)
        opt.step()
    return param.detach().numpy()


GRADS = [[0.5, -1.0], [0.2, 0.3], [-0.4, 0.1]]


def test_adadelta_matches_keras_formula_and_defaults():
    lr, rho, eps = 1e-3, 0.95, 1e-7
    theta = np.array([1.0, -2.0])
    acc_g = np.zeros(2)
    acc_dx = np.zeros(2)
    for g in map(np.array, GRADS):
        acc_g = rho * acc_g + (1 - rho) * g * g
        delta = np.sqrt(acc_dx + eps) / np.sqrt(acc_g + eps) * g
        acc_dx = rho * acc_dx + (1 - rho) * delta * delta
        theta = theta - lr * delta
    np.testing.assert_allclose(_steps(Adadelta(), GRADS), theta, rtol=1e-12)


def test_nadam_matches_keras2_formula():
    lr, b1, b2, eps = 0.01, 0.9, 0.999, 1e-7
    theta = np.array([1.0, -2.0])
    m = v = np.zeros(2)
    mu_prod = 1.0
    for t, g in enumerate(map(np.array, GRADS), start=1):
        mu_t = b1 * (1 - 0.5 * 0.96 ** (0.004 * t))
        mu_next = b1 * (1 - 0.5 * 0.96 ** (0.004 * (t + 1)))
        mu_prod *= mu_t
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        m_bar = (1 - mu_t) * g / (1 - mu_prod) + mu_next * m / (1 - mu_prod * mu_next)
        theta = theta - lr * m_bar / (np.sqrt(v / (1 - b2**t)) + eps)
    np.testing.assert_allclose(_steps(Nadam(learning_rate=lr), GRADS), theta, rtol=1e-8)


def test_new_optimizers_by_name_and_on_the_keras_path():
    model = Sequential([Input((3,)), Dense(2)])
    for name, torch_cls in (("adadelta", torch.optim.Adadelta), ("nadam", torch.optim.NAdam)):
        model.compile(optimizer=name, loss="mse")
        assert isinstance(model.optimizer, torch_cls)
    assert keras_optimizers.Adadelta is Adadelta and keras_optimizers.Nadam is Nadam


def test_learning_rate_property_reads_and_sets_every_group():
    model = Sequential([Input((3,)), Dense(2)])
    model.compile(optimizer=SGD(0.1), loss="mse")
    opt = model.optimizer
    opt.add_param_group({"params": [torch.nn.Parameter(torch.zeros(1))]})
    assert opt.learning_rate == pytest.approx(0.1) and opt.lr == pytest.approx(0.1)
    opt.learning_rate = 0.05
    assert [g["lr"] for g in opt.param_groups] == [0.05, 0.05]
    opt.lr = torch.tensor(0.02)
    assert opt.learning_rate == pytest.approx(0.02)
    with pytest.raises(ValueError, match=r"learning_rate must be a positive number.*-1"):
        opt.learning_rate = -1
    x = np.zeros((4, 3), np.float32)
    model.fit(x, np.zeros((4, 2), np.float32), epochs=1, verbose=0)  # the subclass trains


@pytest.mark.parametrize(
    "spec",
    [
        SGD(0.1, momentum=0.9, nesterov=True),
        Adam(3e-4, beta_1=0.8, clipnorm=1.0),
        RMSprop(centered=True),
        Adadelta(rho=0.9),
        Nadam(epsilon=1e-6),
    ],
)
def test_get_config_round_trips_through_json(spec):
    config = json.loads(json.dumps(spec.get_config()))
    again = type(spec)(**config)
    assert again.get_config() == spec.get_config()
    assert again.torch_kwargs() == spec.torch_kwargs()
    assert math.isclose(config["learning_rate"], spec.learning_rate)
