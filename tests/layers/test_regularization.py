"""Initializers, regularizers, activity regularizers and constraints."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from cnnkit.layers import (
    L1L2,
    Constant,
    Conv2D,
    Dense,
    DepthwiseConv2D,
    GlorotUniform,
    HeNormal,
    MaxNorm,
    NonNeg,
    UnitNorm,
    VarianceScaling,
    get_initializer,
    l1,
    l1_l2,
    l2,
)
from cnnkit.layers._initializers import compute_fans


def test_fans_follow_keras_layout():
    assert compute_fans((3, 3, 16, 32)) == (144, 288)
    assert compute_fans((400, 120)) == (400, 120)
    assert compute_fans((7,)) == (7, 7)


@pytest.mark.parametrize(
    ("name", "std"),
    [
        ("he_normal", math.sqrt(2 / 288)),
        ("lecun_normal", math.sqrt(1 / 288)),
        ("glorot_normal", math.sqrt(2 / (288 + 576))),
        ("he_uniform", math.sqrt(2 / 288)),
        ("glorot_uniform", math.sqrt(2 / (288 + 576))),
    ],
)
def test_variance_scaling_statistics(name, std):
    torch.manual_seed(0)
    w = get_initializer(name)((3, 3, 32, 64))
    assert w.shape == (3, 3, 32, 64)
    assert abs(w.std().item() / std - 1) < 0.05
    if "normal" in name:  # truncated at two (corrected) standard deviations
        assert w.abs().max().item() <= 2 * std / 0.87962566103423978 + 1e-6


def test_depthwise_initializer_uses_keras_fans():
    torch.manual_seed(0)
    layer = DepthwiseConv2D(3, depth_multiplier=4, input_shape=(8, 8, 16))
    # Keras kernel (3, 3, 16, 4): fan_in 144, fan_out 36 -> glorot limit sqrt(6/180).
    limit = math.sqrt(6 / 180)
    w = layer.get_weights()[0]
    assert w.max() <= limit and w.max() > 0.95 * limit


def test_initializer_objects_and_seeded_reproducibility():
    layer = Dense(3, kernel_initializer=Constant(0.5), input_shape=(2,))
    assert np.all(layer.get_weights()[0] == 0.5)
    torch.manual_seed(3)
    a = Conv2D(2, 3, input_shape=(5, 5, 1)).get_weights()[0]
    torch.manual_seed(3)
    b = Conv2D(2, 3, input_shape=(5, 5, 1)).get_weights()[0]
    np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match=r"Unknown VarianceScaling mode 'fan_sum'"):
        VarianceScaling(mode="fan_sum")


def test_weight_regularizers_add_penalties_with_gradients():
    layer = Dense(
        2,
        kernel_regularizer=l2(0.1),
        bias_regularizer=l1(0.5),
        bias_initializer=Constant(-1.0),
        input_shape=(3,),
    )
    kernel = layer.get_weights()[0]
    losses = layer.regularization_losses()
    assert len(losses) == 2
    torch.testing.assert_close(losses[0], torch.tensor(0.1 * float((kernel**2).sum())))
    torch.testing.assert_close(losses[1], torch.tensor(0.5 * 2.0))
    sum(losses).backward()
    torch.testing.assert_close(layer.weight.grad, 0.2 * layer.weight.detach())


def test_regularizer_by_name_and_combined():
    layer = Conv2D(2, 1, kernel_regularizer="l1_l2", input_shape=(2, 2, 1))
    w = layer.weight.detach()
    expected = 0.01 * w.abs().sum() + 0.01 * (w**2).sum()
    torch.testing.assert_close(layer.regularization_losses()[0], expected)
    assert isinstance(l1_l2(), L1L2)
    with pytest.raises(ValueError, match=r"`l2` must be a non-negative number"):
        L1L2(l2=-1)


def test_activity_regularizer_is_divided_by_batch_size():
    layer = Dense(2, activity_regularizer=l1(1.0), kernel_initializer="ones", input_shape=(3,))
    x = torch.ones(4, 3)
    y = layer(x)
    assert layer.regularization_losses()[-1].item() == pytest.approx(y.abs().sum().item() / 4)


def test_constraints_apply_in_keras_layout():
    layer = Conv2D(3, 2, kernel_constraint=MaxNorm(1.0, axis=[0, 1, 2]), input_shape=(4, 4, 2))
    with torch.no_grad():
        layer.weight.mul_(10)
    layer.apply_constraints()
    norms = np.sqrt((layer.get_weights()[0] ** 2).sum(axis=(0, 1, 2)))
    np.testing.assert_allclose(norms, np.ones(3), rtol=1e-5)  # one norm per output filter
    dense = Dense(4, kernel_constraint=UnitNorm(), bias_constraint=NonNeg(), input_shape=(3,))
    with torch.no_grad():
        dense.bias.fill_(-1)
    dense.apply_constraints()
    np.testing.assert_allclose(np.linalg.norm(dense.get_weights()[0], axis=0), 1, rtol=1e-5)
    assert (dense.bias == 0).all()


def test_keras_initializer_classes_seeded_and_serialised():
    a = Conv2D(4, 3, kernel_initializer=HeNormal(seed=7), input_shape=(5, 5, 2))
    b = Conv2D(4, 3, kernel_initializer=HeNormal(seed=7), input_shape=(5, 5, 2))
    np.testing.assert_array_equal(a.get_weights()[0], b.get_weights()[0])
    config = a.get_config()["kernel_initializer"]
    assert config == {"class_name": "HeNormal", "config": {"seed": 7}}
    assert get_initializer(config).get_config() == {"seed": 7}
    limit = math.sqrt(6 / (3 * 3 * 2 + 3 * 3 * 4))
    w = GlorotUniform()((3, 3, 2, 4))
    assert float(w.abs().max()) <= limit
    assert Dense(2, kernel_initializer="he_uniform").get_config()["kernel_initializer"] == (
        "he_uniform"
    )
